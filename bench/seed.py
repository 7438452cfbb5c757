"""Seeds the benchmark's database through the portal's own services (not through the browser).

Writes a JSON file with what the load generator needs: usernames, the shared password, each
registered device's cookie, the challenge answers, and the identity of not-yet-enrolled
customers. Bench data only: these values never come near a real database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

PASSWORD = "bench passphrase of some length 42"
BIRTH_DATE = date(1980, 1, 2)
TIN = "4321"


def answer_for(question_key: str) -> str:
    return f"answer {question_key.replace('_', ' ')}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--unenrolled", type=int, default=400)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.http import HttpResponse
    from django.test import RequestFactory

    from accounts.fields import vin_check_digit
    from accounts.identity import identity_digest
    from accounts.models import Customer, LoanAccount, User, Vehicle
    from security.challenge import QUESTIONS, hash_answer
    from security.devices import DEVICE_COOKIE, device_register
    from security.models import ChallengeAnswer

    digest = identity_digest(TIN, BIRTH_DATE)
    password_hash = make_password(PASSWORD)
    question_keys = list(QUESTIONS)[:3]
    # One slow hash per distinct secret, reused: seeding measures nothing, so it must be quick.
    answer_hashes = {key: hash_answer(answer_for(key)) for key in question_keys}
    total = args.users + args.unenrolled
    customers = Customer.objects.bulk_create(
        Customer(
            customer_number=f"B{n:07d}",
            first_name="Bench",
            last_name=f"Customer{n}",
            identity_digest=digest,
            email=f"bench{n}@example.com",
            mobile_phone=f"+1201555{n % 10000:04d}",
        )
        for n in range(total)
    )
    vehicles = []
    for n in range(total):
        base = f"1FTFW1E5{'0'}{n:08d}"[:17]
        vehicles.append(
            Vehicle(
                vin=base[:8] + vin_check_digit(base) + base[9:],
                year=2022,
                make="Ford",
                model="F-150",
            )
        )
    vehicles = Vehicle.objects.bulk_create(vehicles)
    accounts = LoanAccount.objects.bulk_create(
        LoanAccount(
            account_number=f"9{n:09d}",
            customer=customer,
            vehicle=vehicle,
            balance=Decimal("18250.00"),
            payment_amount=Decimal("455.10"),
            payment_due_date=date(2026, 12, 20),
        )
        for n, (customer, vehicle) in enumerate(zip(customers, vehicles, strict=True))
    )
    # The host the bench serves on, so the "This wasn't me" link in the new-device email is made.
    factory = RequestFactory(SERVER_NAME="localhost")
    seeded = {"password": PASSWORD, "users": [], "unenrolled": []}
    for n in range(args.users):
        user = User.objects.create(
            username=f"bench{n:05d}",
            password=password_hash,
            email=customers[n].email,
            first_name="Bench",
            last_name=customers[n].last_name,
            mobile_phone=customers[n].mobile_phone,
            customer=customers[n],
        )
        user.loan_accounts.set([accounts[n]])
        ChallengeAnswer.objects.bulk_create(
            ChallengeAnswer(user=user, question=key, answer_hash=answer_hashes[key])
            for key in question_keys
        )
        request = factory.get("/", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0")
        request.client_ip = "127.0.0.1"  # type: ignore[attr-defined]
        response = HttpResponse()
        device_register(user=user, request=request, response=response)
        seeded["users"].append(
            {
                "username": user.username,
                "email": user.email,
                "device": response.cookies[DEVICE_COOKIE].value,
            }
        )
    for n in range(args.users, total):
        seeded["unenrolled"].append(
            {
                "tin": TIN,
                "birth_date": BIRTH_DATE.strftime("%m/%d/%Y"),
                "account_number": accounts[n].account_number,
                "email": customers[n].email,
                "n": n,
            }
        )
    seeded["answers"] = {QUESTIONS[key]: answer_for(key) for key in question_keys}
    args.out.write_text(json.dumps(seeded))
    print(
        f"seeded {args.users} enrolled customers with registered devices, {args.unenrolled} to enroll"
    )


if __name__ == "__main__":
    main()
