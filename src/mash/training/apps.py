from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "mash.training"
    label = "training"
    verbose_name = "Training refreshers"
