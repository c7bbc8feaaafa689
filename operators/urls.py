from django.urls import path

from operators import views

app_name = "operators"

urlpatterns = [
    path("operations/users/", views.user_list, name="user-list"),
    path("operations/sites/", views.site_list, name="site-list"),
    path("operations/transactions/", views.transaction_list, name="transaction-list"),
    path("operations/users/<uuid:pk>/", views.user_detail, name="user-detail"),
    path("operations/users/<uuid:pk>/suspend", views.user_suspend, name="user-suspend"),
    path("operations/users/<uuid:pk>/unsuspend", views.user_unsuspend, name="user-unsuspend"),
]
