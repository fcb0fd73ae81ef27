raise ImportError('fault.py test: this application cannot be imported')
