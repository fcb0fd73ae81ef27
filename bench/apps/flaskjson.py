from flask import Flask, jsonify

app = Flask(__name__)


@app.route('/')
def index():
    return jsonify(message='hello', items=[1, 2, 3], ok=True)


application = app
