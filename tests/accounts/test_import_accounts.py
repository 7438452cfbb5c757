"""`manage.py import_accounts`: the servicing export is imported whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.identity import identity_digest
from accounts.importing import HEADER
from accounts.models import Customer, LoanAccount, Vehicle

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo_accounts.csv"


def demo_rows() -> list[dict[str, str]]:
    with DEMO.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]], header: tuple[str, ...] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([row[name] for name in HEADER] for row in rows)
    return path


def run_import(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_accounts", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused_import(path: Path) -> tuple[str, str]:
    """The command's error message and what it wrote to stderr, for an import that fails."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_accounts", str(path), stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def nothing_imported() -> bool:
    return not (
        Customer.objects.exists() or LoanAccount.objects.exists() or Vehicle.objects.exists()
    )


# --- The demo file and re-imports --------------------------------------------------------------------
def test_demo_file_imports_every_customer_vehicle_and_account():
    out, err = run_import(DEMO)

    rows = demo_rows()
    assert out.strip() == (
        f"Imported {len(rows)} loan accounts for 12 customers: 12 customers created, 0 updated, "
        f"0 unchanged; {len(rows)} accounts created, 0 updated, 0 unchanged."
    )
    assert err == ""
    assert Customer.objects.count() == 12
    assert LoanAccount.objects.count() == len(rows) == Vehicle.objects.count()
    first = rows[0]
    account = LoanAccount.objects.select_related("customer", "vehicle").get(
        account_number=first["account_number"]
    )
    assert account.customer.customer_number == first["customer_number"]
    assert account.customer.full_name == f"{first['first_name']} {first['last_name']}"
    assert account.vehicle.vin == first["vin"]
    assert account.balance == Decimal(first["balance"])
    assert account.payment_due_date == date.fromisoformat(first["payment_due_date"])
    # Several demo customers have more than one vehicle.
    assert Customer.objects.filter(loan_accounts__isnull=False).distinct().count() == 12
    assert max(c.loan_accounts.count() for c in Customer.objects.all()) == 3


def test_demo_customer_printed_by_make_run_can_be_verified():
    from security.identity_check import identity_check

    run_import(DEMO)
    first = demo_rows()[0]
    check = identity_check(
        tin_last4=first["tin_last4"],
        birth_date=date.fromisoformat(first["birth_date"]),
        reference=first["account_number"],
    )
    assert check.verified
    assert check.customer is not None
    assert check.customer.customer_number == first["customer_number"]


def test_importing_the_same_file_twice_keeps_the_same_customers_and_accounts():
    run_import(DEMO)
    before = {
        "customers": sorted(Customer.objects.values_list("pk", "customer_number", "updated_at")),
        "accounts": sorted(LoanAccount.objects.values_list("pk", "account_number", "updated_at")),
        "vehicles": sorted(Vehicle.objects.values_list("pk", "vin")),
    }

    out, _ = run_import(DEMO)

    rows = len(demo_rows())
    assert out.strip() == (
        f"Imported {rows} loan accounts for 12 customers: 0 customers created, 0 updated, "
        f"12 unchanged; 0 accounts created, 0 updated, {rows} unchanged."
    )
    after = {
        "customers": sorted(Customer.objects.values_list("pk", "customer_number", "updated_at")),
        "accounts": sorted(LoanAccount.objects.values_list("pk", "account_number", "updated_at")),
        "vehicles": sorted(Vehicle.objects.values_list("pk", "vin")),
    }
    assert after == before


def test_a_changed_balance_in_a_reimport_updates_that_account_only(tmp_path):
    run_import(DEMO)
    rows = demo_rows()
    rows[3]["balance"] = "100.01"
    rows[3]["payment_due_date"] = "2027-02-01"

    out, _ = run_import(write_csv(tmp_path / "next.csv", rows))

    assert "0 customers created, 0 updated, 12 unchanged" in out
    assert f"0 accounts created, 1 updated, {len(rows) - 1} unchanged." in out
    account = LoanAccount.objects.get(account_number=rows[3]["account_number"])
    assert account.balance == Decimal("100.01")
    assert account.payment_due_date == date(2027, 2, 1)
    assert LoanAccount.objects.count() == len(rows)


def test_changed_contact_details_in_a_reimport_update_the_customer(tmp_path):
    run_import(DEMO)
    rows = demo_rows()
    for row in rows:
        if row["customer_number"] == rows[0]["customer_number"]:
            row["email"] = "dana.new@example.com"
            row["mobile_phone"] = "+12015550199"

    out, _ = run_import(write_csv(tmp_path / "next.csv", rows))

    assert "0 customers created, 1 updated, 11 unchanged" in out
    customer = Customer.objects.get(customer_number=rows[0]["customer_number"])
    assert (customer.email, customer.mobile_phone) == ("dana.new@example.com", "+12015550199")


def test_new_rows_in_a_reimport_are_added_beside_the_existing_ones(tmp_path):
    rows = demo_rows()
    run_import(write_csv(tmp_path / "first.csv", rows[:5]))

    out, _ = run_import(DEMO)

    assert f"{len(rows) - 5} accounts created, 0 updated, 5 unchanged." in out
    assert LoanAccount.objects.count() == len(rows)


def test_identity_is_not_stored_in_clear():
    run_import(DEMO)

    for row in demo_rows():
        customer = Customer.objects.get(customer_number=row["customer_number"])
        assert customer.identity_digest == identity_digest(
            row["tin_last4"], date.fromisoformat(row["birth_date"])
        )
        stored = Customer.objects.filter(pk=customer.pk).values().get()
        month_day_year = "/".join(reversed(row["birth_date"].split("-")))
        for column, value in stored.items():
            text = str(value)
            assert row["birth_date"] not in text, column
            assert month_day_year not in text, column
            if column != "identity_digest":  # a hex digest may contain any 4 digits by chance
                assert row["tin_last4"] not in text, column


# --- Refused files -----------------------------------------------------------------------------------
def test_one_bad_vin_among_good_rows_imports_nothing_and_names_the_line(tmp_path):
    rows = demo_rows()
    vin = rows[4]["vin"]
    wrong_digit = "0" if vin[8] != "0" else "1"
    rows[4]["vin"] = vin[:8] + wrong_digit + vin[9:]

    message, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert message.endswith("1 bad row; nothing was imported.")
    assert err.strip() == (
        "line 6: vin: This VIN's check digit does not match; please check each character."
    )
    assert nothing_imported()


def test_every_bad_row_is_reported_not_only_the_first(tmp_path):
    rows = demo_rows()
    rows[0]["tin_last4"] = "12"
    rows[7]["balance"] = "12,345.67"
    rows[7]["payment_due_date"] = "2026-12-32"

    message, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert "2 bad rows; nothing was imported." in message
    assert err.splitlines() == [
        "line 2: tin_last4: must be exactly 4 digits",
        "line 9: balance: must be an amount like 12345.67 (no sign, no thousands separator)",
        "line 9: payment_due_date: is not a real date",
    ]
    assert nothing_imported()


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("tin_last4", "123", "must be exactly 4 digits"),
        ("tin_last4", "12a4", "must be exactly 4 digits"),
        ("tin_last4", "\u0661\u0662\u0663\u0664", "must be exactly 4 digits"),
        ("birth_date", "1985-02-30", "is not a real date"),
        ("birth_date", "04/12/1985", "must be a date written YYYY-MM-DD"),
        ("birth_date", "2999-01-01", "must be a date of birth in the past"),
        ("payment_due_date", "2026-13-01", "is not a real date"),
        ("payment_due_date", "", "must be a date written YYYY-MM-DD"),
        ("mobile_phone", "2015550123", "must be in E.164 form, such as +12015550123"),
        ("mobile_phone", "+1 201 555 0123", "must be in E.164 form, such as +12015550123"),
        (
            "balance",
            "12,345.67",
            "must be an amount like 12345.67 (no sign, no thousands separator)",
        ),
        ("balance", "-5.00", "must be an amount like 12345.67 (no sign, no thousands separator)"),
        (
            "payment_amount",
            "412.9",
            "must be an amount like 12345.67 (no sign, no thousands separator)",
        ),
        ("email", "dana.rivera.example.com", "is not a valid email address"),
        ("email", "", "is required"),
        ("vin", "1HGCV1F35MA01234", "A VIN has 17 characters."),
        ("vin", "1HGCV1F35MA0I2345", "A VIN never contains the letters I, O or Q."),
        ("vehicle_year", "1975", "must be a year from 1981 to"),
        ("vehicle_make", "", "is required"),
        ("account_number", "12", "must be 4 to 20 letters or digits"),
        ("customer_number", "C 1", "must be 1 to 32 letters, digits or dashes"),
        ("last_name", "", "is required"),
        ("first_name", "Da\nna", "contains a control character (such as a line break)"),
    ],
)
def test_each_bad_field_is_named_with_its_line(tmp_path, field, value, problem):
    rows = demo_rows()
    rows[0][field] = value

    message, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert "1 bad row; nothing was imported." in message
    assert err.startswith(f"line 2: {field}: {problem}")
    assert nothing_imported()


def test_rows_of_one_customer_that_disagree_on_identity_are_refused(tmp_path):
    rows = demo_rows()
    customer = rows[1]["customer_number"]
    assert rows[2]["customer_number"] == customer  # the demo's two-vehicle customer
    rows[2]["birth_date"] = "1979-09-29"
    rows[2]["tin_last4"] = "5822"

    message, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert "1 bad row; nothing was imported." in message
    assert err.splitlines() == [
        f"line 4: tin_last4: differs from line 3, an earlier row of customer {customer}",
        f"line 4: birth_date: differs from line 3, an earlier row of customer {customer}",
    ]
    assert nothing_imported()


def test_rows_of_one_customer_that_disagree_on_name_or_contact_are_refused(tmp_path):
    rows = demo_rows()
    rows[2]["last_name"] = "Okafor-Smith"
    rows[2]["email"] = "marcus@example.com"

    _, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert [line.split(": ")[1] for line in err.splitlines()] == ["last_name", "email"]
    assert nothing_imported()


def test_a_vehicle_on_two_accounts_must_be_described_alike(tmp_path):
    rows = demo_rows()
    rows.append({**rows[0], "account_number": "4999999999", "vehicle_model": "Civic"})

    _, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert err.strip() == (
        f"line {len(rows) + 1}: vehicle_model: differs from line 2, an earlier row of "
        f"VIN {rows[0]['vin']}"
    )


def test_an_account_number_twice_in_the_file_is_refused(tmp_path):
    rows = demo_rows()
    rows[5]["account_number"] = rows[0]["account_number"]

    _, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    assert err.strip() == "line 7: account_number: is already on line 2"
    assert nothing_imported()


def test_a_wrong_header_is_one_clear_message(tmp_path):
    header = tuple("tin" if name == "tin_last4" else name for name in HEADER)

    message, err = refused_import(write_csv(tmp_path / "export.csv", demo_rows(), header))

    assert message == (
        f"{tmp_path / 'export.csv'}: line 1: header: must be exactly {','.join(HEADER)} "
        '(missing tin_last4; unexpected "tin"); nothing was imported.'
    )
    assert err == ""
    assert nothing_imported()


def test_columns_in_another_order_are_refused(tmp_path):
    header = (HEADER[1], HEADER[0], *HEADER[2:])

    message, _ = refused_import(write_csv(tmp_path / "export.csv", demo_rows(), header))

    assert "line 1: header: must be exactly" in message
    assert "(the columns are in another order)" in message


def test_a_missing_file_is_one_clear_message(tmp_path):
    message, _ = refused_import(tmp_path / "missing.csv")

    assert message == (
        f"{tmp_path / 'missing.csv'}: cannot be read (No such file or directory); "
        "nothing was imported."
    )


def test_an_empty_file_and_a_header_without_rows_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "line 1: header: the file is empty" in refused_import(empty)[0]
    header_only = write_csv(tmp_path / "header.csv", [])
    assert "line 2: the file has a header but no rows" in refused_import(header_only)[0]


def test_a_row_with_too_few_fields_is_named(tmp_path):
    path = write_csv(tmp_path / "export.csv", demo_rows()[:2])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("C1,Only,Three\n")

    _, err = refused_import(path)

    assert err.strip() == "line 4: row: has 3 fields; expected 15"


def test_bytes_that_are_not_utf8_are_named_by_line_and_field(tmp_path):
    path = write_csv(tmp_path / "export.csv", demo_rows()[:3])
    data = path.read_bytes().replace(b"Okafor", b"Ok\xe1for", 1)
    path.write_bytes(data)

    _, err = refused_import(path)

    assert err.strip() == "line 3: last_name: is not UTF-8 text"
    assert nothing_imported()


def test_a_byte_order_mark_and_surrounding_spaces_are_accepted(tmp_path):
    rows = demo_rows()[:2]
    rows[0]["vin"] = f" {rows[0]['vin'].lower()} "
    path = write_csv(tmp_path / "export.csv", rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    run_import(path)

    assert Vehicle.objects.filter(vin=demo_rows()[0]["vin"]).exists()


def test_a_line_break_inside_a_quoted_field_does_not_shift_line_numbers(tmp_path):
    rows = demo_rows()[:3]
    rows[0]["vehicle_model"] = "Accord\nHybrid"
    rows[2]["tin_last4"] = "x"

    _, err = refused_import(write_csv(tmp_path / "export.csv", rows))

    # The record of line 2 spans lines 2-3, so the third record starts on line 5.
    assert err.splitlines() == [
        "line 2: vehicle_model: contains a control character (such as a line break)",
        "line 5: tin_last4: must be exactly 4 digits",
    ]


# --- Progress bar --------------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_is_drawn_only_on_a_terminal():
    terminal = _Terminal()
    call_command("import_accounts", str(DEMO), stdout=io.StringIO(), stderr=terminal)
    assert "Importing [" in terminal.getvalue()
    assert "100%" in terminal.getvalue()

    LoanAccount.objects.all().delete()
    piped = io.StringIO()
    call_command("import_accounts", str(DEMO), stdout=io.StringIO(), stderr=piped)
    assert piped.getvalue() == ""


# --- As a process ---------------------------------------------------------------------------------------
def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # A throw-away database of its own: never the test database, never a shared one.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'process.sqlite3'}"
    return env


def test_the_command_exits_non_zero_without_a_traceback(tmp_path):
    rows = demo_rows()
    rows[1]["vin"] = rows[1]["vin"][:16]
    path = write_csv(tmp_path / "export.csv", rows)

    result = subprocess.run(
        [sys.executable, "manage.py", "import_accounts", str(path)],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "line 3: vin: A VIN has 17 characters." in result.stderr
    assert "1 bad row; nothing was imported." in result.stderr
    assert "Traceback" not in result.stderr


def test_the_import_benchmark_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PORTAL_VAR_DIR"] = str(tmp_path)  # its throw-away SQLite file goes under var/bench/

    result = subprocess.run(
        [sys.executable, "bench/import_bench.py", "--rows", "500", "--reimport"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    human, machine = result.stdout.strip().splitlines()[-2:]
    assert human.startswith("import_accounts on sqlite: 500 rows in ")
    report = json.loads(machine)
    assert report["rows"] == report["accounts_created"] == 500
    assert report["reimport_accounts_unchanged"] == 500
    assert report["rows_per_second"] > 0
    assert list((tmp_path / "bench").iterdir()) == []  # the throw-away database is gone
