from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Every form field renders through templates/partials/field.html: label, hint, errors and
    aria-describedby the same way on every page."""

    form_template_name = "partials/fields.html"
    field_template_name = "partials/field.html"
