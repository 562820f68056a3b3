from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site as a whole, above every domain: the home page, signing in and out, the menu, the JSON API's
    assembly and `mash demo`."""

    name = "mash.site"
    label = "site"
    verbose_name = "Site"
