from django.http import HttpRequest

from portal.conf import portal
from portal.languages import support_hours


def lender(request: HttpRequest) -> dict[str, str]:
    return {
        "lender_name": portal.lender_name,
        "logo_url": portal.logo_url,
        "support_phone": portal.support_phone,
        "support_hours": support_hours(),
    }
