"""Test-suite wiring: the fake OpenAI server and its SDK client fixtures."""

pytest_plugins = ["tests._support.fake_openai"]
