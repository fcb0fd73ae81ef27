TEXT = 'before'
