from django.http import HttpResponse, JsonResponse
from django.urls import path


def index(request):
    return JsonResponse({'message': 'hello from django', 'script_name': request.META['SCRIPT_NAME'],
                         'path': request.path, 'path_info': request.path_info})


def upload(request):
    return HttpResponse('got %d bytes' % len(request.body), content_type='text/plain')


urlpatterns = [path('', index), path('upload', upload)]
