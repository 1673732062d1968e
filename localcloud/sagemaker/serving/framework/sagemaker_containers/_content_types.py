"""The media types the container's encoders know."""

JSON = "application/json"
CSV = "text/csv"
OCTET_STREAM = "application/octet-stream"
ANY = "*/*"
NPY = "application/x-npy"
UTF8_TYPES = [JSON, CSV]
"""Request bodies of these types reach ``input_fn`` as ``str``; any other type arrives as ``bytes``."""
