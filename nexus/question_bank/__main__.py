"""`python -m nexus.question_bank`: validate every file and print the counts per domain."""

import sys

from nexus.question_bank import BankError, load_bank, summary

try:
    bank = load_bank()
except BankError as error:
    sys.exit(f"ERREUR {error}")
print("\n".join(summary(bank)))
print(f"{len(bank.items)} items in {len(bank.domains)} domains")
