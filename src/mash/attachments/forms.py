from django import forms


class AttachmentForm(forms.Form):
    summary_anchor = "file"

    # Not required here: a missing file is reported by the view, in the same words as the API's.
    file = forms.FileField(label="Upload a file", required=False)
