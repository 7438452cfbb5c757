from django.http import HttpRequest

from portal.conf import portal


def lender(request: HttpRequest) -> dict[str, str]:
    return {
        "lender_name": portal.lender_name,
        "logo_url": portal.logo_url,
        "support_phone": portal.support_phone,
        "support_hours": portal.support_hours,
    }
