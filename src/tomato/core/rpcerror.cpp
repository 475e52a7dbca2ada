// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/rpcerror.h>

namespace Tomato {

class RpcErrorData : public QSharedData
{
public:
    RpcError::Code code = RpcError::Ok;
    QString message;
    QString remoteType;
    QByteArray what; // toString() in UTF-8, made once
};

RpcError::RpcError() : d(new RpcErrorData) { }

RpcError::RpcError(Code code, QString message, QString remoteType) : d(new RpcErrorData)
{
    d->code = code;
    d->message = std::move(message);
    d->remoteType = std::move(remoteType);
    d->what = toString().toUtf8();
}

RpcError::RpcError(const RpcError &other) = default;
RpcError &RpcError::operator=(const RpcError &other) = default;
RpcError::~RpcError() = default;

RpcError::Code RpcError::code() const { return d->code; }
QString RpcError::message() const { return d->message; }
QString RpcError::remoteType() const { return d->remoteType; }

QString RpcError::toString() const
{
    QString s = codeName(d->code);
    if (!d->remoteType.isEmpty())
        s += QLatin1String(" (") + d->remoteType + QLatin1Char(')');
    if (!d->message.isEmpty())
        s += QLatin1String(": ") + d->message;
    return s;
}

const char *RpcError::what() const noexcept
{
    return d->what.isEmpty() ? "Ok" : d->what.constData();
}

QString RpcError::codeName(Code code)
{
    switch (code) {
    case Ok: return QStringLiteral("Ok");
    case Timeout: return QStringLiteral("Timeout");
    case CircuitOpen: return QStringLiteral("CircuitOpen");
    case NoProvider: return QStringLiteral("NoProvider");
    case ConnectFailed: return QStringLiteral("ConnectFailed");
    case Cancelled: return QStringLiteral("Cancelled");
    case ConnectionLost: return QStringLiteral("ConnectionLost");
    case ProtocolViolation: return QStringLiteral("ProtocolViolation");
    case RequestTooLarge: return QStringLiteral("RequestTooLarge");
    case ClientClosed: return QStringLiteral("ClientClosed");
    case UnknownService: return QStringLiteral("UnknownService");
    case UnknownMethod: return QStringLiteral("UnknownMethod");
    case BadArguments: return QStringLiteral("BadArguments");
    case Overloaded: return QStringLiteral("Overloaded");
    case ShuttingDown: return QStringLiteral("ShuttingDown");
    case ApplicationException: return QStringLiteral("ApplicationException");
    case Internal: return QStringLiteral("Internal");
    case DeadlineExceeded: return QStringLiteral("DeadlineExceeded");
    case FrameTooLarge: return QStringLiteral("FrameTooLarge");
    case MalformedFrame: return QStringLiteral("MalformedFrame");
    case UnsupportedVersion: return QStringLiteral("UnsupportedVersion");
    case UnsupportedSerialization: return QStringLiteral("UnsupportedSerialization");
    case UnsupportedCompression: return QStringLiteral("UnsupportedCompression");
    case BadRequest: return QStringLiteral("BadRequest");
    case PermissionDenied: return QStringLiteral("PermissionDenied");
    case TooManyConnections: return QStringLiteral("TooManyConnections");
    case ResourceExhausted: return QStringLiteral("ResourceExhausted");
    }
    return QStringLiteral("Code%1").arg(int(code));
}

bool RpcError::isKnownCode(quint16 code)
{
    return code == Ok || (code >= Timeout && code <= ClientClosed)
        || (code >= UnknownService && code <= ResourceExhausted);
}

bool RpcError::isClientSide(Code code)
{
    return code >= 100 && code < 200;
}

bool RpcError::isRetryable(Code code)
{
    switch (code) {
    case CircuitOpen:
    case ConnectFailed:
    case Overloaded:
    case ShuttingDown:
    case UnknownService: // this instance does not publish it; another may
    case TooManyConnections: // refused before anything was read
        return true;
    default:
        return false;
    }
}

bool RpcError::isInstanceFailure(Code code)
{
    switch (code) {
    case Timeout:
    case ConnectFailed:
    case ConnectionLost:
    case Overloaded:
    case ShuttingDown:
    case TooManyConnections:
    case ResourceExhausted:
    case Internal:
    case DeadlineExceeded:
        return true;
    default:
        return false;
    }
}

void RpcError::raise() const
{
    throw *this;
}

RpcError *RpcError::clone() const
{
    return new RpcError(*this);
}

} // namespace Tomato
