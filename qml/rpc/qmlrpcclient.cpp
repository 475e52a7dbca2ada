// SPDX-License-Identifier: Apache-2.0
#include "qmlrpcclient.h"

#include <tomato/core/rpcerror.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QCoreApplication>

namespace Tomato::Qml {

QmlRpcClient::QmlRpcClient(QObject *parent) : QObject(parent) {}

QmlRpcClient::~QmlRpcClient()
{
    reset();
}

void QmlRpcClient::reset()
{
    m_client.reset(); // before the registry it uses
    if (m_registry)
        m_registry->stop();
    m_registry.reset();
}

void QmlRpcClient::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    if (!error.isEmpty())
        qWarning("Tomato.Rpc RpcClient: %s", qPrintable(error));
    emit errorStringChanged();
}

#define TOMATO_QML_SETTER(name, member)           \
    void QmlRpcClient::name(const QString &value) \
    {                                             \
        if (value == member)                      \
            return;                               \
        member = value;                           \
        reset();                                  \
        emit configurationChanged();              \
    }
TOMATO_QML_SETTER(setAddress, m_address)
TOMATO_QML_SETTER(setRegistry, m_registryUri)
TOMATO_QML_SETTER(setStage, m_stage)
TOMATO_QML_SETTER(setGroup, m_group)
#undef TOMATO_QML_SETTER

void QmlRpcClient::setTimeout(int ms)
{
    if (ms == m_timeout)
        return;
    m_timeout = ms;
    reset();
    emit configurationChanged();
}

void QmlRpcClient::componentComplete()
{
    if (m_address.isEmpty() && m_registryUri.isEmpty())
        setError(QStringLiteral("set address (a server) or registry (a ZooKeeper URI)"));
}

bool QmlRpcClient::ensureClient()
{
    if (m_client)
        return true;
    try {
        RpcConfig defaults;
        if (!m_registryUri.isEmpty())
            defaults.setNameServiceUri(m_registryUri);
        if (!m_stage.isEmpty())
            defaults.setStage(m_stage);
        if (!m_group.isEmpty())
            defaults.setGroup(m_group);
        if (m_timeout > 0)
            defaults.setTimeoutMs(m_timeout);
        const RpcConfig config = RpcConfig::load(defaults, QCoreApplication::arguments());
        m_client = std::make_unique<RpcClient>(config);
        if (m_address.isEmpty()) {
            RegistryFactory registries;
            ZooKeeperRegistry::registerScheme(registries);
            m_registry = registries.create(config);
            if (!m_registry)
                throw RpcError(RpcError::BadArguments, QStringLiteral("neither address nor registry is set"));
            m_client->setRegistry(m_registry.get());
        }
    } catch (const std::exception &e) {
        reset();
        setError(QString::fromUtf8(e.what()));
        return false;
    }
    setError(QString());
    return true;
}

std::shared_ptr<Channel> QmlRpcClient::channel(const QString &microServiceId)
{
    if (!ensureClient())
        return nullptr;
    try {
        if (!m_address.isEmpty())
            return m_client->directChannel(m_client->endpoint(m_address));
        if (microServiceId.isEmpty())
            throw RpcError(RpcError::BadArguments,
                           QStringLiteral("a stub over a registry needs its microServiceId"));
        return m_client->clusterChannel(microServiceId);
    } catch (const RpcError &e) {
        setError(e.message());
        return nullptr;
    }
}

} // namespace Tomato::Qml
