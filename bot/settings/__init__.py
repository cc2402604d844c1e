"""Application settings from environment variables, with defaults that work on a laptop.

One model in sections, each named for the part of the application that reads it
(:mod:`bot.settings.sections`); every setting keeps its own variable (``WEB_PORT``,
``DATABASE_URL``), and a keyword argument names it the same way, in lower case:

>>> settings = Settings(web_port=8123, business_hours="Mon-Fri 09:00-18:00")
>>> settings.servers.web_url, settings.handoff.business_hours
('http://127.0.0.1:8123', 'Mon-Fri 09:00-18:00')
>>> Settings(web_prot=8123)  # doctest: +ELLIPSIS
Traceback (most recent call last):
pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
  Value error, 'web_prot' is not a setting ...
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.settings.section import Section
from bot.settings.sections import (
    DatabaseSettings,
    HandoffSettings,
    IngestionSettings,
    MailSettings,
    PrivacySettings,
    RasaSettings,
    ServerSettings,
    SupervisionSettings,
    WebSettings,
    WeChatSettings,
)

__all__ = [
    "DatabaseSettings",
    "HandoffSettings",
    "IngestionSettings",
    "MailSettings",
    "PrivacySettings",
    "RasaSettings",
    "Section",
    "ServerSettings",
    "Settings",
    "SupervisionSettings",
    "WeChatSettings",
    "WebSettings",
]


class Settings(BaseSettings):
    """``Settings()`` reads the environment (and a ``.env`` file if present); keyword arguments
    take precedence over both. A section may also be given whole (``servers=ServerSettings()``),
    which sets each of its fields."""

    # Errors never repeat what was given: it holds every secret.
    model_config = SettingsConfigDict(env_file=".env", frozen=True, hide_input_in_errors=True)

    servers: ServerSettings = Field(default_factory=ServerSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    supervision: SupervisionSettings = Field(default_factory=SupervisionSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ingestion: IngestionSettings = Field(default_factory=IngestionSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)
    mail: MailSettings = Field(default_factory=MailSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then ``.env``: each a flat mapping from
        settings' names to values, which :meth:`_into_sections` groups."""
        assert isinstance(init_settings, InitSettingsSource)
        assert isinstance(env_settings, EnvSettingsSource)
        assert isinstance(dotenv_settings, EnvSettingsSource)  # a DotEnvSettingsSource
        return (
            _Keywords(settings_cls, init_settings, cls.sections()),
            _Variables(settings_cls, env_settings, cls.variables()),
            _Variables(settings_cls, dotenv_settings, cls.variables()),
        )

    @model_validator(mode="before")
    @classmethod
    def _into_sections(cls, values: Any) -> Any:
        """Settings given by name (``web_port``) into their sections (``servers``); fields given
        by name update a section given whole."""
        if not isinstance(values, dict):
            return values
        sections: dict[str, Any] = {}
        named: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            if name in cls.model_fields:
                sections[name] = value
            elif name in _SECTION_OF:
                named.setdefault(_SECTION_OF[name], {})[name] = value
            else:
                raise ValueError(f"{name!r} is not a setting")
        for section, fields in named.items():
            given = sections.get(section, {})
            sections[section] = {**_fields_of(given), **fields}
        return sections

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        """Each section's name and model."""
        return {name: _section_model(field) for name, field in cls.model_fields.items()}

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every setting's name and the environment variable that sets it, section by section.

        >>> Settings.variables()["web_port"], Settings.variables()["host"]
        ('WEB_PORT', 'BOT_HOST')
        """
        return {
            name: variable
            for section in cls.sections().values()
            for name, variable in section.variables().items()
        }

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable that sets the setting ``name``.

        >>> Settings.variable("host"), Settings.variable("web_port")
        ('BOT_HOST', 'WEB_PORT')
        """
        return cls.variables()[name]

    def environment(self) -> dict[str, str]:
        """Every setting as the environment variable that sets it, with secrets revealed: what
        a child process needs to see the supervisor's settings, whatever their source (the
        environment, ``.env``, a default made up at start such as a random token).

        >>> Settings(web_port=8123, trusted_proxies="10.0.0.1, 10.0.1.0/24").environment()["WEB_PORT"]
        '8123'
        >>> Settings(trusted_proxies="10.0.0.1, 10.0.1.0/24").environment()["TRUSTED_PROXIES"]
        '10.0.0.1/32,10.0.1.0/24'
        """
        environment: dict[str, str] = {}
        for name in type(self).model_fields:
            section: Section = getattr(self, name)
            environment.update(section.environment())
        return environment


class _Keywords(PydanticBaseSettingsSource):
    """The keyword arguments, a section given whole spread into its fields: each then takes
    precedence over its variable, as a keyword naming it does."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        given: InitSettingsSource,
        sections: dict[str, type[Section]],
    ) -> None:
        super().__init__(settings_cls)
        self.given, self.sections = given.init_kwargs, sections

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the keywords

    def __call__(self) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for name, value in self.given.items():
            flat.update(_fields_of(value) if name in self.sections else {name: value})
        return flat


class _Variables(PydanticBaseSettingsSource):
    """Each setting from its variable as ``read`` has it (the environment, or ``.env``), by the
    setting's name."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        read: EnvSettingsSource,
        variables: dict[str, str],
    ) -> None:
        super().__init__(settings_cls)
        self.read, self.variables = read, variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: no single variable sets a section

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, variable in self.variables.items():
            # Matched as pydantic-settings matches: without case unless told otherwise.
            value = self.read.env_vars.get(
                variable if self.read.case_sensitive else variable.lower()
            )
            if value is not None:
                found[name] = value
        return found


def _section_model(field: FieldInfo) -> type[Section]:
    model = field.annotation
    if not (isinstance(model, type) and issubclass(model, Section)):
        raise TypeError(f"every field of Settings is a Section, not {model!r}")
    return model


def _fields_of(section: object) -> dict[str, Any]:
    """A section given whole (a model or a mapping), as its fields by name."""
    if isinstance(section, BaseModel):
        return section.model_dump()
    if isinstance(section, dict):
        return section
    raise ValueError(f"a section is given as its model or a mapping, not {section!r}")


def _section_of_each_setting() -> dict[str, str]:
    """Each setting's name and its section's; a name in two sections is a mistake."""
    section_of: dict[str, str] = {}
    for section_name, section in Settings.sections().items():
        for name in section.model_fields:
            if name in section_of:
                raise TypeError(f"{name!r} is in two sections: {section_of[name]}, {section_name}")
            section_of[name] = section_name
    return section_of


_SECTION_OF = _section_of_each_setting()
