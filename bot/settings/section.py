"""What every section of the settings is: a frozen group of fields, each set by one variable.

A field is set by the variable named like it in upper case (``web_port``: ``WEB_PORT``), or by
its ``validation_alias`` when the plain name would be ambiguous in a shell (``host``:
``BOT_HOST``); the section is built from the field names either way.

>>> from pydantic import Field
>>> class Example(Section):
...     host: str = Field("127.0.0.1", validation_alias="BOT_HOST")
...     web_port: int = 8000
...     token: SecretStr = SecretStr("")
>>> Example.variables()
{'host': 'BOT_HOST', 'web_port': 'WEB_PORT', 'token': 'TOKEN'}
>>> Example(web_port=8123, token="s3cret").environment()
{'BOT_HOST': '127.0.0.1', 'WEB_PORT': '8123', 'TOKEN': 's3cret'}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class Section(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Each field's name and the environment variable that sets it."""
        return {
            name: field.validation_alias
            if isinstance(field.validation_alias, str)
            else name.upper()
            for name, field in cls.model_fields.items()
        }

    def environment(self) -> dict[str, str]:
        """This section as the variables that set it, secrets revealed (a field that is None
        is left out: its variable unset means None)."""
        environment = {}
        for name, variable in self.variables().items():
            value = getattr(self, name)
            if value is not None:
                environment[variable] = _as_variable(value)
        return environment


def _as_variable(value: object) -> str:
    """``value`` as the variable that reads back to it."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)
