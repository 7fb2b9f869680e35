# Python imports this module at start, before Synapse (the chart mounts it from ConfigMap
# <release>-python at /matrixk8s/python, which PYTHONPATH names).
# Twisted's SMTP client keeps a transcript of the last lines it exchanged with the server,
# the AUTH lines with the base64-encoded SMTP password among them, and puts it into its
# errors; Synapse logs such an error at ERROR ("Error sending threepid validation email"),
# so a refused login or recipient wrote the password into the log (tests/realserver/test_email.py).
# Without the transcript the error still holds the server's answer, such as 535 5.7.8.
try:
    from twisted.mail import smtp
except ImportError:  # an image without Twisted: nothing logs an SMTP transcript
    pass
else:
    smtp.SMTPClient.debug = False
