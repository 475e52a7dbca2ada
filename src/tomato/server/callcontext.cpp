// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/callcontext.h>

#include <tomato/server/servercore_p.h>
#include <tomato/wire/extension_p.h>

namespace Tomato {

namespace {
thread_local const CallContext *t_current = nullptr;

Extension decoded(const QByteArray &bytes)
{
    Extension ext;
    QString ignored; // checked when the call was admitted
    Extension::decode(bytes, &ext, &ignored);
    return ext;
}
} // namespace

CallContext::CallContext(const ServerCall &call)
    : m_call(call), m_outer(t_current)
{
    t_current = this;
}

CallContext::~CallContext()
{
    t_current = m_outer;
}

const CallContext *CallContext::current()
{
    return t_current;
}

QString CallContext::service() const
{
    return QString::fromLatin1(m_call.service->info.serviceName);
}

QString CallContext::method() const
{
    return QString::fromLatin1(m_call.method->name);
}

bool CallContext::hasDeadline() const
{
    return m_call.deadline != std::chrono::steady_clock::time_point::max();
}

std::chrono::steady_clock::time_point CallContext::deadline() const
{
    return m_call.deadline;
}

std::chrono::milliseconds CallContext::timeLeft() const
{
    if (!hasDeadline())
        return std::chrono::milliseconds::max();
    const auto left = m_call.deadline - std::chrono::steady_clock::now();
    return left.count() > 0 ? std::chrono::duration_cast<std::chrono::milliseconds>(left) : std::chrono::milliseconds(0);
}

bool CallContext::isCancelled() const
{
    return m_call.cancelRequested.load(std::memory_order_relaxed)
        || (hasDeadline() && std::chrono::steady_clock::now() > m_call.deadline);
}

QByteArray CallContext::traceId() const
{
    return decoded(m_call.extension).value(ExtensionKey::TraceId);
}

QHash<QString, QString> CallContext::context() const
{
    QHash<QString, QString> out;
    const Extension ext = decoded(m_call.extension);
    const QByteArrayView prefix(ExtensionKey::ContextPrefix);
    for (const auto &[key, value] : ext.entries()) {
        if (key.startsWith(prefix))
            out.insert(QString::fromUtf8(key.mid(prefix.size())), QString::fromUtf8(value));
    }
    return out;
}

QString CallContext::context(const QString &key) const
{
    const QByteArray name = QByteArray(ExtensionKey::ContextPrefix) + key.toUtf8();
    return QString::fromUtf8(decoded(m_call.extension).value(name));
}

QString CallContext::peer() const
{
    return m_call.connection->peer;
}

QString CallContext::peerSubject() const
{
    return m_call.connection->subject;
}

QString CallContext::peerCommonName() const
{
    return m_call.connection->commonName;
}

} // namespace Tomato
