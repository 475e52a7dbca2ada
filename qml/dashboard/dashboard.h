// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "consumermodel.h"
#include "instancedetails.h"
#include "invokermodel.h"
#include "servicelistmodel.h"

#include <tomato/core/rpcconfig.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QObject>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QTimer>
#include <QtQml/qqmlregistration.h>
#include <memory>

namespace Tomato {

class ClusterView;
class HealthPoller;
class RpcClient;

// What tomato-dashboard shows and does (docs/DASHBOARD.md): the registry's tree watched live
// (ZooKeeperRegistry::watchTree()), the models the views bind to, the health of instances
// polled in the background, and the operator's actions (overrides, a call by name).
//
// The QML side sees it as the root's `dashboard` property; every model, property and method
// below is what the views bind to.
//
// Threads: the GUI thread, all of it (the registry posts to it; HTTP replies arrive on it).
class Dashboard : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by tomato-dashboard")
    // The ensemble as the user gave it, without credentials ("127.0.0.1:2181").
    Q_PROPERTY(QString registryAddress READ registryAddress CONSTANT)
    // "connecting", "connected", "unreachable" (the last known tree is kept and marked stale),
    // "refused" (ZooKeeper refused a read or a write for want of permission).
    Q_PROPERTY(QString registryState READ registryState NOTIFY registryStateChanged)
    // One sentence on what is wrong, empty while all is well.
    Q_PROPERTY(QString registryMessage READ registryMessage NOTIFY registryStateChanged)
    Q_PROPERTY(bool stale READ isStale NOTIFY registryStateChanged)
    Q_PROPERTY(int retryInSeconds READ retryInSeconds NOTIFY retryInSecondsChanged)
    // The whole tree has been read once.
    Q_PROPERTY(bool loaded READ isLoaded NOTIFY loadedChanged)
    Q_PROPERTY(ServiceFilterModel *services READ services CONSTANT)
    Q_PROPERTY(int serviceCount READ serviceCount NOTIFY serviceCountChanged)
    // The micro-service the service view shows ("" for none).
    Q_PROPERTY(QString currentService READ currentService WRITE setCurrentService NOTIFY currentServiceChanged)
    Q_PROPERTY(InvokerModel *invokers READ invokers CONSTANT)
    Q_PROPERTY(ConsumerModel *consumers READ consumers CONSTANT)
    // The instance ("host:port") the instance view shows, and what is known of it.
    Q_PROPERTY(QString currentInstance READ currentInstance WRITE setCurrentInstance NOTIFY currentInstanceChanged)
    Q_PROPERTY(InstanceDetails *instance READ instance CONSTANT)
    // Why the actions on the current service are disabled (read-only, no ZooKeeper, or every
    // stage of it refuses); empty when some are allowed: each instance's actionRefusal role
    // then says for its own stage.
    Q_PROPERTY(QString writeRefusal READ writeRefusal NOTIFY writeRefusalChanged)
    // Why "Try a call" is disabled (--read-only); empty when calls are allowed.
    Q_PROPERTY(QString callRefusal READ callRefusal CONSTANT)
    Q_PROPERTY(bool darkMode READ isDarkMode CONSTANT)

public:
    struct Options
    {
        bool readOnly = false;
        bool darkMode = false;
        int pollIntervalMs = 2000;  // per instance
        int maxPollsPerSecond = 20; // status requests of the whole dashboard
        int readySamples = 2;       // an instance view is ready with this many samples
    };
    // `config`: name-service-uri (ZooKeeper; credentials in it), tls-* for the status pages of
    // tls:// instances and for calls. Throws RpcError(BadArguments) for a malformed URI.
    Dashboard(const RpcConfig &config, const Options &options, QObject *parent = nullptr);
    ~Dashboard() override;

    // Starts watching (once the QML is loaded, so that the views see every row arrive).
    void start();

    QString registryAddress() const;
    QString registryState() const { return m_registryState; }
    QString registryMessage() const { return m_registryMessage; }
    // The views show a tree that may be out of date: the one last seen, while the session is
    // away or its tree has not been read afresh.
    bool isStale() const;
    int retryInSeconds() const { return m_retryInSeconds; }
    bool isLoaded() const { return m_loaded; }
    ServiceFilterModel *services() const { return m_serviceFilter; }
    int serviceCount() const;
    QString currentService() const { return m_currentService; }
    void setCurrentService(const QString &id);
    InvokerModel *invokers() const { return m_invokers; }
    ConsumerModel *consumers() const { return m_consumers; }
    QString currentInstance() const { return m_currentInstance; }
    void setCurrentInstance(const QString &address);
    InstanceDetails *instance() const { return m_instance; }
    QString writeRefusal() const;
    // Why the actions on instances of `microServiceId` in `stage` are refused; empty when allowed.
    QString writeRefusal(const QString &microServiceId, const QString &stage) const;
    QString callRefusal() const;
    bool isDarkMode() const { return m_options.darkMode; }

    // Actions on an instance of the current service, in `stage` (each writes the override
    // node /tomato/{service}/{stage}/overrides/{address}; actionFinished() tells how it went).
    Q_INVOKABLE void setWeight(const QString &stage, const QString &address, int weight);
    Q_INVOKABLE void setDisabled(const QString &stage, const QString &address, bool disabled);
    Q_INVOKABLE void clearOverride(const QString &stage, const QString &address);
    // Calls `method` of `interfaceName` on the instance at `address` with a JSON array of
    // arguments (text as typed), through the dynamic-call API; callFinished() has the answer.
    Q_INVOKABLE void tryCall(const QString &address, const QString &interfaceName, const QString &method,
                             const QString &argumentsJson);
    // Opens a new ZooKeeper session now (the tree it reads replaces the one shown).
    Q_INVOKABLE void retryNow();

    // For --screenshot and tests: the data `view` shows is loaded ("services",
    // "service:<id>", "instance:<host:port>"); `why` says what is still missing.
    bool isViewReady(const QString &view, QString *why = nullptr) const;
    ZooKeeperRegistry *registry() const { return m_registry.get(); }

Q_SIGNALS:
    void registryStateChanged();
    void retryInSecondsChanged();
    void loadedChanged();
    void serviceCountChanged();
    void currentServiceChanged();
    void currentInstanceChanged();
    void writeRefusalChanged();
    void actionFinished(bool ok, const QString &message);
    void callFinished(bool ok, const QString &result);

private:
    // An override write sent and not answered yet.
    struct PendingWrite
    {
        QString what;                         // for the message: "weight 50"
        std::optional<InstanceOverride> value; // none: the override is removed
    };
    void openRegistry();
    void onEntryChanged(const RegistryServiceEntry &entry);
    void onEntryRemoved(const QString &microServiceId, const QString &stage);
    void onTreeLoaded();
    void onConnectedChanged(bool connected);
    void onTreeReadFailed(const QString &path, const QString &error);
    void onOverrideWritten(const QString &microServiceId, const QString &stage, const QString &address,
                           const QString &error);
    QString globalRefusal() const;
    bool readFailedUnder(const QString &microServiceId, const QString &stage) const;
    void updateRegistryState();
    void refusalsMayHaveChanged();
    void tick();
    InstanceOverride currentOverride(const QString &stage, const QString &address) const;
    void writeOverride(const QString &stage, const QString &address, const std::optional<InstanceOverride> &value,
                       const QString &what);
    void pollTargetsChanged();

    RpcConfig m_config;
    Options m_options;
    ClusterView *m_cluster = nullptr;
    HealthPoller *m_poller = nullptr;
    ServiceListModel *m_serviceList = nullptr;
    ServiceFilterModel *m_serviceFilter = nullptr;
    InvokerModel *m_invokers = nullptr;
    ConsumerModel *m_consumers = nullptr;
    InstanceDetails *m_instance = nullptr;
    std::unique_ptr<RpcClient> m_client; // for tryCall, made on first use
    QString m_currentService;
    QString m_currentInstance;
    QString m_registryState = QStringLiteral("connecting");
    QString m_registryMessage;
    bool m_stale = false; // as last announced
    bool m_loaded = false;
    int m_retryInSeconds = 0;
    QTimer m_clock; // once a second: the retry countdown, uptimes, warm-up

    // The current session (a new registry object each time one is opened), and what is known
    // of it; after these members so that the registry goes first when the dashboard does.
    std::unique_ptr<ZooKeeperRegistry> m_registry;
    QElapsedTimer m_sessionOpenedAt;
    QElapsedTimer m_disconnectedAt;    // valid while a session that was up is away
    bool m_sessionConnected = false;   // it has been connected at least once
    QString m_readRefusal;             // ZooKeeper refused a read of the tree: what and why
    QStringList m_failedPaths;         // the paths of those reads
    QHash<QString, QString> m_writeRefusals;      // service\nstage -> why ZooKeeper refused a write
    QHash<QString, PendingWrite> m_pendingWrites; // service\nstage\naddress
};

} // namespace Tomato
