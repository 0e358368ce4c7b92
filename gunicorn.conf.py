# Read by gunicorn from its working directory (/app in the image), whatever the command line says.
# Access log lines carry the path without its query string (%(U)s): no searched name or birth date lands in a log.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'
