"""What the customer's records announce to the layers above, which listen (the records layer
imports neither security nor any use case)."""

from django.dispatch import Signal

# The servicing import moved loan accounts to another customer and removed them from the online
# accounts that showed them. Sent inside the import's transaction with `unlinked`: a list of
# (user id, last 4 characters of the account number).
loan_accounts_unlinked = Signal()
