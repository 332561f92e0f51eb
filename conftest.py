"""Test-suite wiring: the fake provider servers and their SDK client fixtures."""

pytest_plugins = [
    "tests._support.fake_openai",
    "tests._support.fake_anthropic",
    "tests._support.fake_gemini",
]
