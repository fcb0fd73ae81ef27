from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route('/')
def index():
    return jsonify(message='hello from flask', script_root=request.script_root, path=request.path)


@app.route('/echo', methods=['POST'])
def echo():
    return jsonify(length=len(request.get_data()), form=request.form.to_dict())


application = app
