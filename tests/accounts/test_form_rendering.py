"""The shared form partial: every error at once in a summary at the top linked to its field,
required fields marked, and help and errors tied to their control by aria-describedby."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template.loader import render_to_string

from tests.conftest import World


class PartnerishForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As on the contract.")
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    seats = forms.IntegerField(label="Seats")
    active = forms.BooleanField(label="Active", required=False)

    def clean(self):  # noqa: ANN201
        raise forms.ValidationError("The partner could not be saved.")


def render(data: dict | None = None) -> str:
    return render_to_string("partials/form.html", {"form": PartnerishForm(data)})


def test_an_unbound_form_has_no_summary_but_marks_required_fields():
    html = render()
    assert "error-summary" not in html
    assert "Fields marked" in html
    assert re.search(r'for="id_name">\s*Name\s*<span class="required" aria-hidden="true">\*', html)
    assert not re.search(r'for="id_website">\s*Website\s*<span class="required"', html)
    assert 'aria-describedby="id_name_helptext"' in html
    assert 'required id="id_name"' in html


def test_every_error_shows_at_once_in_a_summary_linked_to_its_field():
    html = render({"name": "", "website": "not a url", "seats": "many"})
    summary = html[html.index('class="error-summary"') : html.index("</div>")]
    assert "There are 4 problems" in summary
    assert "<li>The partner could not be saved.</li>" in summary
    assert '<a href="#id_name">Name: This field is required.</a>' in summary
    assert '<a href="#id_website">Website: Enter a valid URL.</a>' in summary
    assert '<a href="#id_seats">Seats: Enter a whole number.</a>' in summary
    assert 'role="alert"' in summary
    assert html.index("error-summary") < html.index('id="id_name"')


def test_each_error_is_tied_to_its_control():
    html = render({"name": "", "website": "https://fine.example", "seats": "many"})
    name = re.search(r"<input[^>]*id=\"id_name\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_name_helptext id_name_error"' in name
    assert 'aria-invalid="true"' in name
    seats = re.search(r"<input[^>]*id=\"id_seats\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_seats_error"' in seats
    website = re.search(r"<input[^>]*id=\"id_website\"[^>]*>", html).group(0)
    assert "aria-invalid" not in website
    assert 'id="id_seats_error"' in html
    assert "There are 3 problems" in html


def test_a_checkbox_sits_beside_its_label():
    html = render()
    assert 'class="field check"' in html


@pytest.mark.django_db
def test_a_page_form_with_errors_opens_with_the_summary(world: World, client_for):
    response = client_for(world.vendor_admin).post("/vendor/tiers/new/", {"name": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-summary"' in html
    assert '<a href="#id_name">' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "summary"),
    [
        ("", "Filters </summary>"),
        ("?name=Lake&status=active&region=", "Filters (2 active) </summary>"),
        ("?name=+&region=", "Filters </summary>"),
    ],
)
def test_list_filters_fold_into_a_disclosure_that_counts_them(
    world: World, client_for, query, summary
):
    response = client_for(world.vendor_admin).get(f"/vendor/partners/{query}")
    html = " ".join(response.content.decode().split())
    assert '<details class="filters-disclosure" data-testid="filters" >' in html
    assert f"<summary> {summary}" in html
    assert html.index('data-testid="filters"') < html.index("<table")
