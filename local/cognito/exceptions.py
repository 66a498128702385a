"""Errors of the local Cognito, named after the error codes of the Cognito Identity Provider API.

The model raises them and the wire layer sends each one as the JSON protocol's
`{"__type": <class name>, "message": ...}` with the class's HTTP status.
Messages copy Cognito's wording where it is known.
"""
from __future__ import annotations


class CognitoError(Exception):
    """Base of every error the local Cognito sends to a client."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


class InvalidParameterException(CognitoError):
    pass


class InvalidPasswordException(CognitoError):
    pass


class UsernameExistsException(CognitoError):
    pass


class CodeMismatchException(CognitoError):
    pass


class ExpiredCodeException(CognitoError):
    pass


class UserNotFoundException(CognitoError):
    pass


class NotAuthorizedException(CognitoError):
    pass


class UserNotConfirmedException(CognitoError):
    pass


class ResourceNotFoundException(CognitoError):
    pass


class TooManyRequestsException(CognitoError):
    pass


class InternalErrorException(CognitoError):
    status = 500


class SerializationException(CognitoError):
    """The request body is not a JSON object (the AWS JSON protocol's own error)."""


class InvalidAction(CognitoError):
    """The request names an action that the offline stack does not emulate."""
