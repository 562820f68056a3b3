from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "mash.training"
    label = "training"
    verbose_name = "Training refreshers"

    def ready(self):
        # Lapsed or untrained staff reach no case data: the access gate asks this before any rule.
        from mash.access import gate

        from . import services

        gate.register_gate(services.gate, advice=services.GATE_ADVICE, link_name="training:mine",
                           link_text="See your training status")
