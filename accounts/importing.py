"""Loading the loan-servicing system's export: customers, their vehicles and loan accounts.

The export is read twice, streaming, so memory does not grow with the number of rows beyond
what the cross-row checks need:

1. Check every row without touching the database. Only a small fingerprint per customer and per
   VIN (to catch rows of one customer that disagree) and the account numbers seen (to catch
   duplicates) are kept. Any bad row means nothing is imported.
2. Upsert in batches inside one transaction, keyed on customer_number, VIN and account_number:
   one SELECT per model and batch finds what exists, and only new or changed rows are written
   (INSERT ... ON CONFLICT DO UPDATE, on SQLite and PostgreSQL alike). Both passes hash the bytes
   they read; if the file changed in between, the transaction is rolled back.

Every field customers also type (phone, TIN last 4, birth date, account number, VIN) is checked
by its rule in accounts.fields, so the export and the customer's own entries are held to the same
definition; as the export is machine-written, values must already be in the rule's normal form.
Identity data (TIN last 4, birth date) is kept only as accounts.identity.identity_digest; no
message of this module repeats a value from the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts import fields
from accounts.fields import normalize_reference, vin_problem
from accounts.identity import identity_digest
from accounts.models import Customer, LoanAccount, User, Vehicle
from accounts.signals import loan_accounts_unlinked

HEADER = (
    "customer_number",
    "first_name",
    "last_name",
    "tin_last4",
    "birth_date",
    "email",
    "mobile_phone",
    "account_number",
    "vin",
    "vehicle_year",
    "vehicle_make",
    "vehicle_model",
    "balance",
    "payment_amount",
    "payment_due_date",
)
BATCH_SIZE = 2_000
# How often (in rows) the checking pass reports progress.
_PROGRESS_EVERY = 2_000

# [0-9], not \d: \d also matches digits of other scripts.
_CUSTOMER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT = re.compile(r"[0-9]{1,10}\.[0-9]{2}")
_YEAR = re.compile(r"[0-9]{4}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# VINs of 17 characters (ISO 3779) are used from model year 1981.
_FIRST_VIN_YEAR = 1981

# Fields whose values must be the same on every row of one customer, and of one vehicle.
_CUSTOMER_FIELDS = ("tin_last4", "birth_date", "first_name", "last_name", "email", "mobile_phone")
_VEHICLE_FIELDS = ("vehicle_year", "vehicle_make", "vehicle_model")


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.problem}"


class ImportFailed(Exception):
    """Nothing was imported."""


class ImportFileError(ImportFailed):
    """The file as a whole cannot be imported (missing, unreadable, not UTF-8, wrong header)."""


class ImportRejected(ImportFailed):
    """One or more rows are bad; `problems` holds those not already passed to on_problem."""

    def __init__(self, *, bad_rows: int, problems: list[RowProblem]) -> None:
        self.bad_rows = bad_rows
        self.problems = problems
        rows = "row" if bad_rows == 1 else "rows"
        super().__init__(f"{bad_rows:,} bad {rows}; nothing was imported")


@dataclass
class ImportResult:
    rows: int = 0
    customers: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    vehicles_created: int = 0
    vehicles_updated: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    accounts_unchanged: int = 0
    accounts_moved: int = 0  # to another customer: unlinked from the old customer's online account

    def summary(self) -> str:
        moved = (
            f" {self.accounts_moved:,} accounts moved to another customer and removed from the "
            "previous customer's My Vehicles."
            if self.accounts_moved
            else ""
        )
        return (
            f"Imported {self.rows:,} loan accounts for {self.customers:,} customers: "
            f"{self.customers_created:,} customers created, {self.customers_updated:,} updated, "
            f"{self.customers_unchanged:,} unchanged; "
            f"{self.accounts_created:,} accounts created, {self.accounts_updated:,} updated, "
            f"{self.accounts_unchanged:,} unchanged.{moved}"
        )


class _Row(NamedTuple):
    line: int
    customer_number: str
    first_name: str
    last_name: str
    tin_last4: str
    birth_date: date
    email: str
    mobile_phone: str
    account_number: str
    vin: str
    vehicle_year: int
    vehicle_make: str
    vehicle_model: str
    balance: Decimal
    payment_amount: Decimal
    payment_due_date: date
    customer_fingerprint: bytes
    vehicle_fingerprint: bytes


ProblemCallback = Callable[[RowProblem], None]
# (phase, done, total): "checking" counts bytes of the file, "importing" counts rows.
ProgressCallback = Callable[[str, int, int], None]


def accounts_import(
    *,
    path: Path,
    on_problem: ProblemCallback | None = None,
    on_progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Imports the servicing export at `path`: all of it in one transaction, or nothing.

    Raises ImportFileError for a file that cannot be read or has the wrong header, and
    ImportRejected when any row is bad; each bad field is passed to `on_problem` as it is found
    (or collected on the exception when no callback is given). Importing the same file again
    creates nothing and writes nothing.
    """
    collected: list[RowProblem] = []
    report = on_problem if on_problem is not None else collected.append
    today = timezone.localdate()
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot be read ({exc.strerror or exc})") from None
    with raw:
        checked = _HashingReader(raw)
        summary = _check(checked, today, os.fstat(raw.fileno()).st_size, report, on_progress)
        if summary.bad_rows:
            raise ImportRejected(bad_rows=summary.bad_rows, problems=collected)
        raw.seek(0)
        written = _HashingReader(raw)
        result = ImportResult(rows=summary.rows, customers=len(summary.customers))
        with transaction.atomic():
            _write(written, summary, result, batch_size, on_progress)
            # Raising here rolls the transaction back.
            if written.digest() != checked.digest():
                raise _file_changed()
    return result


def _file_changed() -> ImportFileError:
    return ImportFileError("changed while it was being imported")


class _HashingReader(io.RawIOBase):
    """Reads through to a binary file, hashing every byte, so two passes can be compared."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__()
        self._raw = raw
        self._sha = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self._sha.update(memoryview(buffer)[:count])
            self.bytes_read += count
        return count

    def digest(self) -> bytes:
        return self._sha.digest()

    def text(self) -> IO[str]:
        # Undecodable bytes are kept (as surrogates) so the row and field can be named.
        return io.TextIOWrapper(
            io.BufferedReader(self),
            encoding="utf-8-sig",
            errors="surrogateescape",
            newline="",
        )


# --- Reading and checking -------------------------------------------------------------------------
@dataclass
class _CheckSummary:
    rows: int
    bad_rows: int
    # customer_number -> packed (first line, field hashes); VIN -> the same for the vehicle.
    customers: dict[str, bytes]
    vehicles: dict[str, bytes]


def _records(handle: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for each record after the header."""
    reader = csv.reader(handle, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("line 1: header: the file is empty")
        if tuple(header) != HEADER:
            missing = [name for name in HEADER if name not in header]
            unexpected = [f'"{_printable(name)}"' for name in header if name not in HEADER]
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(unexpected)}" if unexpected else "",
                )
                if part
            )
            raise ImportFileError(
                f"line 1: header: must be exactly {','.join(HEADER)}"
                + (f" ({detail})" if detail else " (the columns are in another order)")
            )
        line = reader.line_num + 1
        for record in reader:
            yield line, record
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            f"line {reader.line_num}: the file is not valid CSV ({exc})"
        ) from None


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()[:40]


# Fingerprints: the line, then a 64-bit hash of each field that must agree between rows. Python's
# str hash is keyed per process (SipHash), so a file cannot be crafted to make two different
# values look alike, and an accidental match is negligible.
_CUSTOMER_PRINT = struct.Struct(f"{len(_CUSTOMER_FIELDS) + 1}q")
_VEHICLE_PRINT = struct.Struct(f"{len(_VEHICLE_FIELDS) + 1}q")


def _unpack(packed: bytes) -> tuple[int, ...]:
    return struct.unpack(f"{len(packed) // 8}q", packed)


def _row(line: int, values: list[str]) -> _Row:
    """The typed row from stripped values already checked by _parse."""
    (
        customer_number,
        first_name,
        last_name,
        tin_last4,
        birth_text,
        email,
        mobile_phone,
        account_text,
        vin_text,
        year_text,
        make,
        model,
        balance_text,
        payment_text,
        due_text,
    ) = values
    return _Row(
        line,
        customer_number,
        first_name,
        last_name,
        tin_last4,
        date.fromisoformat(birth_text),
        email,
        mobile_phone,
        normalize_reference(account_text),
        normalize_reference(vin_text),
        int(year_text),
        make,
        model,
        Decimal(balance_text),
        Decimal(payment_text),
        date.fromisoformat(due_text),
        _CUSTOMER_PRINT.pack(
            line,
            hash(tin_last4),
            hash(birth_text),
            hash(first_name),
            hash(last_name),
            hash(email),
            hash(mobile_phone),
        ),
        _VEHICLE_PRINT.pack(line, hash(year_text), hash(make), hash(model)),
    )


def _parse(line: int, record: list[str], problems: list[RowProblem], today: date) -> _Row | None:
    """The typed row, or None after adding each bad field to `problems`."""
    if len(record) != len(HEADER):
        problems.append(
            RowProblem(line, "row", f"has {len(record)} fields; expected {len(HEADER)}")
        )
        return None
    joined = "".join(record)
    if not joined.isascii() or _CONTROL.search(joined):
        start = len(problems)
        for field, value in zip(HEADER, record, strict=True):
            if not _is_utf8(value):
                problems.append(RowProblem(line, field, "is not UTF-8 text"))
            elif _CONTROL.search(value):
                problems.append(
                    RowProblem(line, field, "contains a control character (such as a line break)")
                )
        if len(problems) > start:
            return None
    values = [value.strip() for value in record]
    (
        customer_number,
        first_name,
        last_name,
        tin_last4,
        birth_text,
        email,
        mobile_phone,
        account_text,
        vin_text,
        year_text,
        make,
        model,
        balance_text,
        payment_text,
        due_text,
    ) = values
    start = len(problems)

    def bad(field: str, problem: str) -> None:
        problems.append(RowProblem(line, field, problem))

    if not _CUSTOMER_NUMBER.fullmatch(customer_number):
        bad("customer_number", "must be 1 to 32 letters, digits or dashes")
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if not value:
            bad(field, "is required")
        elif len(value) > 100:
            bad(field, "must be at most 100 characters")
    if _normal(fields.tin_last4, tin_last4) != tin_last4:
        bad("tin_last4", "must be exactly 4 digits")
    birth_date = _date(birth_text, "birth_date", bad)
    in_range = partial(fields.birth_date_in_range, today=today)
    if birth_date is not None and _normal(in_range, birth_date) is None:
        bad(
            "birth_date",
            f"must be a date of birth in the past, from {fields.FIRST_BIRTH_YEAR}-01-01 on",
        )
    if not email:
        bad("email", "is required")
    elif not _valid_email(email):
        bad("email", "is not a valid email address")
    if mobile_phone:
        e164 = _normal(fields.mobile_phone, mobile_phone)
        if e164 is None:
            bad("mobile_phone", "is not a mobile number (in E.164 form, such as +12015550123)")
        elif e164 != mobile_phone:
            bad("mobile_phone", "must be in E.164 form, such as +12015550123")
    # Stored as customers type it at enrollment (accounts.fields.normalize_reference).
    if _normal(fields.account_number, account_text) is None:
        low, high = fields.ACCOUNT_NUMBER_MIN, fields.ACCOUNT_NUMBER_MAX
        bad("account_number", f"must be {low} to {high} letters or digits")
    problem = vin_problem(normalize_reference(vin_text))
    if problem:
        bad("vin", problem)
    last_year = today.year + 2
    if not _YEAR.fullmatch(year_text) or not _FIRST_VIN_YEAR <= int(year_text) <= last_year:
        bad("vehicle_year", f"must be a year from {_FIRST_VIN_YEAR} to {last_year}")
    for field, value in (("vehicle_make", make), ("vehicle_model", model)):
        if not value:
            bad(field, "is required")
        elif len(value) > 50:
            bad(field, "must be at most 50 characters")
    for field, value in (("balance", balance_text), ("payment_amount", payment_text)):
        if not _AMOUNT.fullmatch(value):
            bad(field, "must be an amount like 12345.67 (no sign, no thousands separator)")
    _date(due_text, "payment_due_date", bad)
    if len(problems) > start:
        return None
    return _row(line, values)


def _valid_email(email: str) -> bool:
    # The common case by one regex; anything else (quoted local parts, international domains)
    # by Django's validator, which is exact but slower.
    if len(email) <= 254 and _SIMPLE_EMAIL.fullmatch(email):
        return True
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _normal[T, R](rule: Callable[[T], R], value: T) -> R | None:
    """What `rule` (one of accounts.fields) makes of `value`, or None when it refuses it."""
    try:
        return rule(value)
    except ValidationError:
        return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _date(text: str, field: str, bad: Callable[[str, str], None]) -> date | None:
    if not _ISO_DATE.fullmatch(text):
        bad(field, "must be a date written YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        bad(field, "is not a real date")
        return None


def _disagreements(
    kind: str, key: str, fields: tuple[str, ...], seen: bytes, row: _Row, packed: bytes
) -> list[RowProblem]:
    """A problem for each field where this row differs from the first row of the same key."""
    first_line, *first_hashes = _unpack(seen)
    _, *hashes = _unpack(packed)
    return [
        RowProblem(
            row.line, field, f"differs from line {first_line}, an earlier row of {kind} {key}"
        )
        for field, a, b in zip(fields, first_hashes, hashes, strict=True)
        if a != b
    ]


def _check(
    source: _HashingReader,
    today: date,
    size: int,
    report: ProblemCallback,
    on_progress: ProgressCallback | None,
) -> _CheckSummary:
    customers: dict[str, bytes] = {}
    vehicles: dict[str, bytes] = {}
    account_lines: dict[str, int] = {}
    rows = bad_rows = 0
    for line, record in _records(source.text()):
        rows += 1
        problems: list[RowProblem] = []
        row = _parse(line, record, problems, today)
        if row is not None:
            if row.customer_number in customers:
                problems += _disagreements(
                    "customer",
                    row.customer_number,
                    _CUSTOMER_FIELDS,
                    customers[row.customer_number],
                    row,
                    row.customer_fingerprint,
                )
            else:
                customers[row.customer_number] = row.customer_fingerprint
            if row.vin in vehicles:
                problems += _disagreements(
                    "VIN", row.vin, _VEHICLE_FIELDS, vehicles[row.vin], row, row.vehicle_fingerprint
                )
            else:
                vehicles[row.vin] = row.vehicle_fingerprint
            first_line = account_lines.setdefault(row.account_number, line)
            if first_line != line:
                problems.append(
                    RowProblem(line, "account_number", f"is already on line {first_line}")
                )
        if problems:
            bad_rows += 1
            for problem in problems:
                report(problem)
        if on_progress is not None and rows % _PROGRESS_EVERY == 0:
            on_progress("checking", source.bytes_read, size)
    if rows == 0:
        raise ImportFileError("line 2: the file has a header but no rows")
    if on_progress is not None:
        on_progress("checking", size, size)
    return _CheckSummary(rows, bad_rows, customers, vehicles)


# --- Writing --------------------------------------------------------------------------------------
def _write(
    source: _HashingReader,
    summary: _CheckSummary,
    result: ImportResult,
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> None:
    # What is still in these dicts has not been written yet in this run; a customer or vehicle
    # on several rows (maybe in several batches) is compared and counted only once.
    pending_customers = summary.customers
    pending_vehicles = summary.vehicles
    batch: list[_Row] = []
    done = 0
    for line, record in _records(source.text()):
        # Checked in the first pass; a file that changed since is caught by its hash at the
        # end, or here if the change breaks the conversion first.
        try:
            batch.append(_row(line, [value.strip() for value in record]))
        except (ValueError, ArithmeticError):
            raise _file_changed() from None
        if len(batch) >= batch_size:
            _write_batch(batch, pending_customers, pending_vehicles, result)
            done += len(batch)
            batch = []
            if on_progress is not None:
                on_progress("importing", done, summary.rows)
    if batch:
        _write_batch(batch, pending_customers, pending_vehicles, result)
        done += len(batch)
    if on_progress is not None:
        on_progress("importing", done, summary.rows)


def _first_time(pending: dict[str, bytes], key: str, fingerprint: bytes) -> bool:
    """True the first time `key` is written in this run."""
    seen = pending.pop(key, None)
    if seen is None:
        return False
    if seen != fingerprint:
        raise _file_changed()
    return True


def _write_batch(
    rows: list[_Row],
    pending_customers: dict[str, bytes],
    pending_vehicles: dict[str, bytes],
    result: ImportResult,
) -> None:
    # One time for the batch, in the form the database takes (auto_now is not applied to SQL).
    updated_at = connection.ops.adapt_datetimefield_value(timezone.now())
    customers: dict[str, tuple[Any, ...]] = {}
    vehicles: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        if _first_time(pending_customers, row.customer_number, row.customer_fingerprint):
            customers[row.customer_number] = (
                row.first_name,
                row.last_name,
                identity_digest(row.tin_last4, row.birth_date),
                row.email,
                row.mobile_phone,
            )
        if _first_time(pending_vehicles, row.vin, row.vehicle_fingerprint):
            vehicles[row.vin] = (row.vehicle_year, row.vehicle_make, row.vehicle_model)

    customer_ids, created, updated = _upsert(
        Customer,
        "customer_number",
        ("first_name", "last_name", "identity_digest", "email", "mobile_phone"),
        {row.customer_number for row in rows},
        customers,
        updated_at,
    )
    result.customers_created += created
    result.customers_updated += updated
    result.customers_unchanged += len(customers) - created - updated

    vehicle_ids, created, updated = _upsert(
        Vehicle, "vin", ("year", "make", "model"), {row.vin for row in rows}, vehicles, None
    )
    result.vehicles_created += created
    result.vehicles_updated += updated

    try:
        accounts = {
            row.account_number: (
                customer_ids[row.customer_number],
                vehicle_ids[row.vin],
                row.balance,
                row.payment_amount,
                row.payment_due_date,
            )
            for row in rows
        }
    except KeyError:  # a customer or VIN the first pass did not see
        raise _file_changed() from None
    moved = [
        number
        for number, customer_id in LoanAccount.objects.filter(
            account_number__in=accounts
        ).values_list("account_number", "customer_id")
        if customer_id != accounts[number][0]
    ]
    _, created, updated = _upsert(
        LoanAccount,
        "account_number",
        ("customer", "vehicle", "balance", "payment_amount", "payment_due_date"),
        set(accounts),
        accounts,
        updated_at,
        with_ids=False,
    )
    result.accounts_created += created
    result.accounts_updated += updated
    result.accounts_unchanged += len(accounts) - created - updated
    if moved:
        result.accounts_moved += len(moved)
        _unlink_moved(moved)


def _unlink_moved(account_numbers: list[str]) -> None:
    """Removes loan accounts that now belong to another customer from every online account
    of someone else, so the previous customer no longer sees their balance."""
    links = User.loan_accounts.through.objects.filter(
        loanaccount__account_number__in=account_numbers
    ).exclude(user__customer_id=F("loanaccount__customer_id"))
    gone = list(links.values_list("pk", "user_id", "loanaccount__account_number"))
    if not gone:
        return
    User.loan_accounts.through.objects.filter(pk__in=[pk for pk, _, _ in gone]).delete()
    loan_accounts_unlinked.send(
        sender=LoanAccount, unlinked=[(user_id, number[-4:]) for _, user_id, number in gone]
    )


def _upsert(
    model: type[Customer | Vehicle | LoanAccount],
    key_field: str,
    fields: tuple[str, ...],
    keys: set[str],
    wanted: dict[str, tuple[Any, ...]],
    updated_at: Any,
    *,
    with_ids: bool = True,
) -> tuple[dict[str, int], int, int]:
    """Writes the `wanted` rows that are new or differ from the database.

    Returns the primary key of every key in `keys` (those written earlier in the run too) unless
    `with_ids` is false, and how many rows were created and updated.
    """
    manager = model._default_manager
    existing: dict[str, tuple[int, tuple[Any, ...]]] = {
        key: (pk, tuple(values))
        for key, pk, *values in manager.filter(**{f"{key_field}__in": keys}).values_list(
            key_field, "pk", *fields
        )
    }
    ids = {key: pk for key, (pk, _) in existing.items()}
    new_keys: list[str] = []
    changed: list[tuple[Any, ...]] = []
    for key, values in wanted.items():
        if key not in existing:
            new_keys.append(key)
        elif existing[key][1] == values:
            continue
        changed.append((key, *values))
    if changed:
        _insert_or_update(model, key_field, fields, changed, updated_at)
    if new_keys and with_ids:
        ids.update(manager.filter(**{f"{key_field}__in": new_keys}).values_list(key_field, "pk"))
    return ids, len(new_keys), len(changed) - len(new_keys)


def _insert_or_update(
    model: type[Customer | Vehicle | LoanAccount],
    key_field: str,
    fields: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    updated_at: Any,
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE of every row, in one round trip.

    Written as SQL because Django's bulk_create(update_conflicts=True) spends most of an import
    compiling each value (about 10 times slower here). SQLite runs one short statement for every
    row (executemany loops in C); PostgreSQL gets one array per column, so a batch travels as a
    handful of parameters. Table, column and type names come from the model; values are
    parameters.
    """
    field_of = {field.name: field for field in model._meta.concrete_fields}
    names = [key_field, *fields]
    if "updated_at" in field_of:  # auto_now is Django's, so SQL sets it
        names.append("updated_at")
        rows = [(*row, updated_at) for row in rows]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(str(field_of[name].column)) for name in names]
    into = ", ".join(columns)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
    # Only identifiers from the model (quoted) are formatted into the SQL, never a value.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field_of[name].cast_db_type(connection)}[]" for name in names)
            sql = f"INSERT INTO {table} ({into}) SELECT * FROM UNNEST({arrays}) ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"  # noqa: S608  # nosec B608
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        else:
            values = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({into}) VALUES ({values}) ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"  # noqa: S608  # nosec B608
            cursor.executemany(sql, rows)
