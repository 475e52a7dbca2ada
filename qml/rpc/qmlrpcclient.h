// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/rpcclient.h>
#include <tomato/registry/registry.h>

#include <QtCore/QObject>
#include <QtQml/QQmlParserStatus>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace Tomato::Qml {

// RpcClient { } in QML (docs/QML.md): what Stub elements call through. Either `address`
// (every stub calls that one server) or `registry` (stubs find the instances of their
// micro-service in ZooKeeper, in `stage` and `group`, with the client's load balancing and
// failover). The properties are the application's defaults: the configuration file, the
// TOMATO_RPC_* environment and --tomato-rpc.* arguments still override them, as for any
// Tomato program (docs/CONFIGURATION.md). Read when the first call is made; later changes
// make a new client for the calls after them.
class QmlRpcClient : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    QML_NAMED_ELEMENT(RpcClient)
    Q_INTERFACES(QQmlParserStatus)
    Q_PROPERTY(QString address READ address WRITE setAddress NOTIFY configurationChanged)
    Q_PROPERTY(QString registry READ registry WRITE setRegistry NOTIFY configurationChanged)
    Q_PROPERTY(QString stage READ stage WRITE setStage NOTIFY configurationChanged)
    Q_PROPERTY(QString group READ group WRITE setGroup NOTIFY configurationChanged)
    Q_PROPERTY(int timeout READ timeout WRITE setTimeout NOTIFY configurationChanged) // ms; 0: timeout-ms
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)

public:
    explicit QmlRpcClient(QObject *parent = nullptr);
    ~QmlRpcClient() override;

    QString address() const { return m_address; }
    void setAddress(const QString &address);
    QString registry() const { return m_registryUri; }
    void setRegistry(const QString &uri);
    QString stage() const { return m_stage; }
    void setStage(const QString &stage);
    QString group() const { return m_group; }
    void setGroup(const QString &group);
    int timeout() const { return m_timeout; }
    void setTimeout(int ms);
    QString errorString() const { return m_error; }

    // Where a stub of that micro-service sends its calls; null (and errorString set) when the
    // configuration is unusable.
    std::shared_ptr<Tomato::Channel> channel(const QString &microServiceId);

    void classBegin() override {}
    void componentComplete() override;

Q_SIGNALS:
    void configurationChanged();
    void errorStringChanged();

private:
    bool ensureClient();
    void reset();
    void setError(const QString &error);

    QString m_address, m_registryUri, m_stage, m_group, m_error;
    int m_timeout = 0;
    std::unique_ptr<Tomato::Registry> m_registry;
    std::unique_ptr<Tomato::RpcClient> m_client;
};

} // namespace Tomato::Qml
