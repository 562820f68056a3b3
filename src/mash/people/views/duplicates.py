"""duplicates pages."""

urlpatterns: list = []
