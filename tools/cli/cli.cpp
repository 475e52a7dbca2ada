// SPDX-License-Identifier: Apache-2.0
#include "cli.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <cstdio>
#include <limits>

namespace Cli {

Failure::Failure(ExitCode code, const QString &message)
    : std::runtime_error(message.toStdString()), m_code(code)
{
}

ExitCode exitCodeOf(const Tomato::RpcError &error)
{
    using Tomato::RpcError;
    switch (error.code()) {
    case RpcError::Timeout:
    case RpcError::CircuitOpen:
    case RpcError::NoProvider:
    case RpcError::ConnectFailed:
    case RpcError::ConnectionLost:
    case RpcError::ClientClosed:
        return Unreachable;
    case RpcError::Ok:
    case RpcError::Cancelled:
    case RpcError::ProtocolViolation:
    case RpcError::RequestTooLarge:
        return InternalError;
    default:
        return RpcError::isClientSide(error.code()) ? InternalError : RemoteFailure;
    }
}

QString describe(const Tomato::RpcError &error)
{
    QString text = QStringLiteral("%1 (%2)").arg(Tomato::RpcError::codeName(error.code())).arg(int(error.code()));
    if (!error.remoteType().isEmpty())
        text += QStringLiteral(": ") + error.remoteType();
    if (!error.message().isEmpty())
        text += QStringLiteral(": ") + error.message();
    return text;
}

void printLine(const QString &line)
{
    std::fputs(line.toUtf8().append('\n').constData(), stdout);
    std::fflush(stdout);
}

QString jsonText(const QJsonValue &value, bool pretty)
{
    const auto format = pretty ? QJsonDocument::Indented : QJsonDocument::Compact;
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(format)).trimmed();
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(format)).trimmed();
    if (value.isUndefined())
        return QStringLiteral("null");
    // QJsonDocument writes arrays and objects only: write [value] and take the brackets off.
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}

QString timeText(qint64 msSinceEpoch)
{
    if (msSinceEpoch <= 0)
        return QStringLiteral("-");
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch, Qt::UTC).toString(Qt::ISODate);
}

EventWait::EventWait(QDeadlineTimer deadline)
{
    m_timer.setSingleShot(true);
    QObject::connect(&m_timer, &QTimer::timeout, &m_loop, &QEventLoop::quit);
    if (!deadline.isForever())
        m_timer.start(int(qBound(qint64(0), deadline.remainingTime(), qint64(std::numeric_limits<int>::max()))));
}

void EventWait::quit()
{
    m_quit = true;
    m_loop.quit();
}

bool EventWait::exec()
{
    if (!m_quit)
        m_loop.exec();
    return m_quit;
}

} // namespace Cli
