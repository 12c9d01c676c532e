"""The password reset e-mail goes out through the worker, and its link sets the password."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import World, build_world
from tests.worker.conftest import StartWorker, TaskLog

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEND = "accounts.tasks.email_send"


def test_reset_link_from_the_worker_sets_a_new_password(
    transactional_db: None, start_celery_worker: StartWorker, task_log: TaskLog
):
    world: World = build_world()
    user = world.partner_rep.user
    with start_celery_worker():
        response = Client().post(reverse("password_reset"), {"email": user.email.upper()})
        assert response.status_code == 302
        [run] = task_log.wait(SEND)
    assert run.retval == 1
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "Reset your PRM password"
    [url] = re.findall(r"https?://\S+", message.body)

    client = Client()
    form = client.get(urlsplit(url).path, follow=True)
    password = "Velvet-Compass-1957"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(password)
