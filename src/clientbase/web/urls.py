from django.contrib.auth import views as auth_views
from django.urls import include, path

from clientbase.customers import views as customer_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("customers/", include("clientbase.customers.urls")),
    path("", customer_views.search, name="home"),
]
