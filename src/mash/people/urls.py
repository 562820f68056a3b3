from django.urls import include, path

from .views import chronology, duplicates, history, identity, search

app_name = "people"
urlpatterns = [
    path("", include(search.urlpatterns)),
    path("", include(history.urlpatterns)),
    path("", include(chronology.urlpatterns)),
    path("", include(duplicates.urlpatterns)),
    path("", include(identity.urlpatterns)),
]
