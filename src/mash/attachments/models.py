"""Files a partner agency attaches to an item of its answer (PDF, images, office documents, text).

The file and its name are encrypted under the data key of the enquiry's child (mash.keys): the
column `data` holds the file's bytes as base64, sealed with AES-256-GCM whose associated data names
this table, column, row and child. What is kept in clear is what the gate and the listing need: the
item, the type found by sniffing the bytes, the size, and the SHA-256 of the file (checked again on
every download).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys.fields import EncryptedTextField

PERSON = "item.contribution.enquiry.child_id"

# The kinds of file accepted (services.sniff), as people call them.
TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheet",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "text/plain": "Text",
}


class Attachment(models.Model):
    item = models.ForeignKey("sharing.ContributionItem", on_delete=models.PROTECT, related_name="attachments")
    filename = EncryptedTextField(person=PERSON)
    content_type = models.CharField(max_length=100, help_text="found by sniffing the file's bytes, not as declared")
    size = models.PositiveBigIntegerField(help_text="bytes")
    sha256 = models.CharField(max_length=64, help_text="of the file as uploaded (hex)")
    data = EncryptedTextField(person=PERSON, help_text="the file's bytes as base64, encrypted")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item", "id"]

    def __str__(self):
        return f"Attachment {self.pk} on item {self.item_id}"

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.content_type, self.content_type)
