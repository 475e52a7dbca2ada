// SPDX-License-Identifier: Apache-2.0
#include "target.h"

#include "registryaccess.h"

#include <tomato/client/dynamicstub.h>

#include <QtCore/QRegularExpression>

namespace Cli {

bool Target::isAddress(const QString &text)
{
    static const QRegularExpression hostPort(QStringLiteral("^(\\[[^\\]]+\\]|[^:\\[\\]]+):[0-9]+$"));
    return text.contains(QLatin1String("://")) || hostPort.match(text).hasMatch();
}

Target::Target(const GlobalOptions &options, const QString &text)
    : m_options(options), m_text(text), m_client(std::make_unique<Tomato::RpcClient>(options.config))
{
    if (isAddress(text)) {
        try {
            m_channel = m_client->directChannel(m_client->endpoint(text));
        } catch (const Tomato::RpcError &e) {
            throw Failure(UsageError, QStringLiteral("'%1' is not an address: %2").arg(text, e.message()));
        }
        return;
    }
    m_registry = openRegistry(options);
    m_client->setRegistry(m_registry.get());
    m_channel = m_client->clusterChannel(text);
}

QString Target::name() const
{
    if (!m_registry)
        return m_client->endpoint(m_text).toString();
    const Tomato::RpcConfig &config = m_client->config();
    return QStringLiteral("%1 in %2/%3").arg(m_text, config.stage(), config.group());
}

// Until the registry's first read of the service in the client's stage: the client has
// updated its instances by then (it hears the registry first).
void Target::waitForProvider()
{
    if (!m_registry || !m_client->instances(m_text).isEmpty())
        return;
    const QString stage = m_client->config().stage();
    EventWait wait(m_options.deadline);
    QObject::connect(m_registry.get(), &Tomato::Registry::instancesChanged, &wait,
                     [&](const QString &service, const QString &changedStage) {
                         if (service == m_text && changedStage == stage)
                             wait.quit();
                     });
    if (!wait.exec()) {
        const QString registry = registryName(m_options.nameServiceUri);
        throw Failure(Unreachable, m_registry->isConnected()
                          ? QStringLiteral("the registry at %1 did not list %2 within %3 ms").arg(registry, m_text).arg(m_options.timeoutMs)
                          : QStringLiteral("cannot reach the registry at %1 within %2 ms").arg(registry).arg(m_options.timeoutMs));
    }
    if (m_client->instances(m_text).isEmpty())
        throw Failure(Unreachable, QStringLiteral("no provider of %1 (`tomato list` shows where it runs; "
                                                  "--stage and --group choose)")
                                       .arg(name()));
}

QJsonValue Target::call(const QString &service, const QString &method, const QJsonArray &arguments,
                        Tomato::CallOptions options)
{
    waitForProvider();
    const Tomato::DynamicStub stub(m_channel, service);
    const qint64 left = qMax<qint64>(1, m_options.deadline.remainingTime());
    options.setTimeout(std::chrono::milliseconds(left));
    // The call's own timeout ends it first, with its RpcError; the margin is for the reply's way back.
    return await(stub.callJson(method, arguments, options), QDeadlineTimer(left + 1000),
                 QStringLiteral("%1.%2 on %3").arg(service, method, name()));
}

} // namespace Cli
