"""Thin views: parse the form, call a service, render a page or a fragment."""
