VALUE = 'old'
