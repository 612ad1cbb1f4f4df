"""Flask extensions, created unbound and bound in ``create_app``."""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model maps a table (none a join or a select), so Core statements take it.
        __table__: ClassVar[Table]


log = logging.getLogger("jointops.database")


class _SQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose end-of-request clean-up survives a database that went away.

    Removing the session rolls back what it still holds; when the server is gone that
    rollback fails, and raised from the app context's teardown it would replace the answer
    already made (a 503, or a save's success) with the WSGI server's own error page.
    """

    def _teardown_session(self, exc: BaseException | None) -> None:
        try:
            self.session.remove()
        except SQLAlchemyError as failure:
            log.warning("ending a request's database session failed: %s", type(failure).__name__)
            self.session().invalidate()
            self.session.registry.clear()


#: ``pool_pre_ping``: a pooled connection is tested before use, so that after a database
#: restart the pool replaces dead connections instead of failing a request with each.
db = _SQLAlchemy(model_class=Base, engine_options={"pool_pre_ping": True})

# The base class of every model. At run time it is ``db.Model``, the class that Flask-SQLAlchemy
# builds from ``Base`` (adding its table-name and bind-key mixins); the type checker sees it as
# an attribute, not a class, so it is told the declarative base that the mapping comes from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()

_View = TypeVar("_View", bound=Callable[..., Any])


class _CSRFProtect(Protocol):
    """What the app uses of Flask-WTF's ``CSRFProtect`` (Flask-WTF ships no types)."""

    def init_app(self, app: Flask) -> None: ...

    def exempt(self, view: _View) -> _View: ...

    def protect(self, apply_exemptions: bool = False) -> None: ...


csrf: _CSRFProtect = CSRFProtect()
