"""Enrollment keeps no models of its own: the E-SIGN consent it records is part of the
customer's record (accounts.models.ElectronicConsent, app label "enrollment")."""
