"""chronology pages."""

urlpatterns: list = []
