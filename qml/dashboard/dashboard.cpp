// SPDX-License-Identifier: Apache-2.0
#include "dashboard.h"

#include "clusterview.h"
#include "consumermodel.h"
#include "healthpoller.h"
#include "instancedetails.h"
#include "invokermodel.h"
#include "servicelistmodel.h"

#include <tomato/client/dynamicstub.h>
#include <tomato/client/rpcclient.h>
#include <tomato/core/endpoint.h>
#include <tomato/core/rpcerror.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSet>
#include <QtCore/QUrl>

#include <algorithm>

namespace Tomato {

namespace {
constexpr int UnreachableAfterMs = 3000; // no session by then: say so
constexpr int RetrySeconds = 5;          // a fresh session this often while unreachable
constexpr int CallTimeoutMs = 10000;

// "user:secret@host:port" -> "host:port", scheme and credentials left out.
QString withoutCredentials(const QString &uri)
{
    QString rest = uri;
    if (const qsizetype scheme = rest.indexOf(QLatin1String("://")); scheme >= 0)
        rest = rest.mid(scheme + 3);
    if (const qsizetype at = rest.lastIndexOf(QLatin1Char('@')); at >= 0)
        rest = rest.mid(at + 1);
    return rest;
}
} // namespace

Dashboard::Dashboard(const RpcConfig &config, const Options &options, QObject *parent)
    : QObject(parent), m_config(config), m_options(options)
{
    m_config.set(QStringLiteral("empty-protection"), QStringLiteral("false")); // show what is there
    m_cluster = new ClusterView(this);
    m_poller = new HealthPoller(config, options.pollIntervalMs, options.maxPollsPerSecond, this);
    m_serviceList = new ServiceListModel(m_cluster, m_poller, this);
    m_serviceFilter = new ServiceFilterModel(this);
    m_serviceFilter->setSourceModel(m_serviceList);
    m_invokers = new InvokerModel(m_cluster, m_poller, this);
    m_invokers->setWarmupSeconds(config.warmupSeconds());
    m_invokers->setRefusal([this](const QString &stage) { return writeRefusal(m_currentService, stage); });
    m_consumers = new ConsumerModel(m_cluster, m_poller, this);
    m_instance = new InstanceDetails(m_cluster, m_poller, options.pollIntervalMs, this);
    connect(m_cluster, &ClusterView::serviceAdded, this, &Dashboard::serviceCountChanged);
    connect(m_cluster, &ClusterView::serviceRemoved, this, &Dashboard::serviceCountChanged);
    connect(&m_clock, &QTimer::timeout, this, &Dashboard::tick);
    m_clock.setInterval(1000);
    m_registry = std::make_unique<ZooKeeperRegistry>(m_config.nameServiceUri(), m_config); // throws on a bad URI
}

Dashboard::~Dashboard()
{
    // Its destructor reports the session closing: not to a half-destroyed dashboard.
    m_registry->disconnect(this);
}

void Dashboard::start()
{
    openRegistry();
    m_clock.start();
}

// A session of its own (at start, on "Retry now", and when the last one cannot come back):
// the tree it reads replaces what the last one knew once it is loaded.
void Dashboard::openRegistry()
{
    if (m_sessionOpenedAt.isValid()) {
        m_registry->disconnect(this); // the old session's end is not news
        m_registry = std::make_unique<ZooKeeperRegistry>(m_config.nameServiceUri(), m_config);
        // Writes the old session had not heard back about may or may not have been made.
        for (const PendingWrite &w : std::as_const(m_pendingWrites))
            Q_EMIT actionFinished(false, QStringLiteral("%1: not confirmed, the ZooKeeper session was replaced before it "
                                                        "answered (the view shows what was written)")
                                             .arg(w.what));
        m_pendingWrites.clear();
    }
    m_sessionConnected = false;
    m_disconnectedAt.invalidate();
    m_readRefusal.clear();
    m_failedPaths.clear();
    m_writeRefusals.clear();
    ZooKeeperRegistry *r = m_registry.get();
    connect(r, &ZooKeeperRegistry::treeEntryChanged, this, &Dashboard::onEntryChanged);
    connect(r, &ZooKeeperRegistry::treeEntryRemoved, this, &Dashboard::onEntryRemoved);
    connect(r, &ZooKeeperRegistry::treeLoaded, this, &Dashboard::onTreeLoaded);
    connect(r, &Registry::connectedChanged, this, &Dashboard::onConnectedChanged);
    connect(r, &ZooKeeperRegistry::treeReadFailed, this, &Dashboard::onTreeReadFailed);
    connect(r, &ZooKeeperRegistry::overrideWriteFinished, this, &Dashboard::onOverrideWritten);
    r->start();
    r->watchTree();
    m_sessionOpenedAt.start();
    if (m_registryState == QLatin1String("unreachable"))
        m_retryInSeconds = RetrySeconds;
    Q_EMIT retryInSecondsChanged();
    updateRegistryState();
    refusalsMayHaveChanged();
}

QString Dashboard::registryAddress() const
{
    return withoutCredentials(m_config.nameServiceUri());
}

int Dashboard::serviceCount() const
{
    return int(m_cluster->serviceIds().size());
}

bool Dashboard::isStale() const
{
    return m_loaded && (!m_registry->isConnected() || !m_registry->isTreeLoaded());
}

void Dashboard::onEntryChanged(const RegistryServiceEntry &entry)
{
    m_cluster->setEntry(entry);
    pollTargetsChanged();
    if (entry.microServiceId == m_currentService)
        refusalsMayHaveChanged(); // writability comes with the entry
}

void Dashboard::onEntryRemoved(const QString &microServiceId, const QString &stage)
{
    m_cluster->removeEntry(microServiceId, stage);
    pollTargetsChanged();
}

// The session's tree is complete: what it does not hold went away while we were not looking,
// unless ZooKeeper would not let us read it.
void Dashboard::onTreeLoaded()
{
    QSet<QPair<QString, QString>> present;
    for (const RegistryServiceEntry &e : m_registry->tree())
        present.insert({e.microServiceId, e.stage});
    QList<QPair<QString, QString>> gone; // collected first: removing changes the cluster
    for (const QString &id : m_cluster->serviceIds()) {
        for (const RegistryServiceEntry *e : m_cluster->entries(id)) {
            if (!present.contains({id, e->stage}) && !readFailedUnder(id, e->stage))
                gone.append({id, e->stage});
        }
    }
    for (const auto &[id, stage] : std::as_const(gone))
        onEntryRemoved(id, stage);
    if (!m_loaded) {
        m_loaded = true;
        Q_EMIT loadedChanged();
    }
    updateRegistryState();
}

bool Dashboard::readFailedUnder(const QString &microServiceId, const QString &stage) const
{
    const QString providers = ZooKeeperRegistry::providersPath(microServiceId, stage);
    const QString stagePath = providers.left(providers.lastIndexOf(QLatin1Char('/')));
    return std::any_of(m_failedPaths.cbegin(), m_failedPaths.cend(), [&](const QString &path) {
        return stagePath.startsWith(path) || path.startsWith(stagePath + QLatin1Char('/')) || path == stagePath;
    });
}

void Dashboard::onConnectedChanged(bool connected)
{
    if (connected) {
        m_sessionConnected = true;
        m_disconnectedAt.invalidate();
        m_retryInSeconds = 0;
    } else {
        m_disconnectedAt.start();
        m_retryInSeconds = RetrySeconds;
    }
    Q_EMIT retryInSecondsChanged();
    updateRegistryState();
    refusalsMayHaveChanged();
}

void Dashboard::onTreeReadFailed(const QString &path, const QString &error)
{
    if (!m_failedPaths.contains(path))
        m_failedPaths.append(path);
    m_readRefusal = QStringLiteral("ZooKeeper refused to let the dashboard read %1: %2").arg(path, error);
    updateRegistryState();
}

// The state, its sentence and staleness, from what is known of the session.
void Dashboard::updateRegistryState()
{
    QString state, message;
    if (m_registry->isConnected()) {
        state = m_readRefusal.isEmpty() ? QStringLiteral("connected") : QStringLiteral("refused");
        message = m_readRefusal;
    } else if (!m_sessionConnected && !m_loaded && m_sessionOpenedAt.isValid()
               && m_sessionOpenedAt.elapsed() < UnreachableAfterMs) {
        state = QStringLiteral("connecting");
    } else {
        state = QStringLiteral("unreachable");
        message = m_loaded
            ? QStringLiteral("ZooKeeper at %1 does not answer; showing the tree as last seen").arg(registryAddress())
            : QStringLiteral("ZooKeeper at %1 does not answer").arg(registryAddress());
    }
    const bool stale = isStale();
    if (state == m_registryState && message == m_registryMessage && stale == m_stale)
        return;
    m_registryState = state;
    m_registryMessage = message;
    m_stale = stale;
    Q_EMIT registryStateChanged();
}

void Dashboard::refusalsMayHaveChanged()
{
    m_invokers->refusalsChanged();
    Q_EMIT writeRefusalChanged();
}

// Once a second: the retry countdown, and uptime and warm-up in the views. A session that
// was up and is away is left to come back by itself (the client keeps trying, and the
// registry opens a new session once ZooKeeper must have expired it); one that never came up
// is replaced when the countdown ends.
void Dashboard::tick()
{
    m_invokers->tick();
    updateRegistryState();
    if (m_registry->isConnected() || m_registryState != QLatin1String("unreachable"))
        return;
    if (m_retryInSeconds <= 0)
        m_retryInSeconds = RetrySeconds;
    if (--m_retryInSeconds <= 0) {
        if (!m_sessionConnected)
            openRegistry();
        m_retryInSeconds = RetrySeconds;
    }
    Q_EMIT retryInSecondsChanged();
}

void Dashboard::retryNow()
{
    openRegistry();
}

void Dashboard::pollTargetsChanged()
{
    m_poller->setInstances(m_cluster->allAddresses());
    m_poller->setPreferred(m_invokers->addresses());
    m_poller->setConsumers(m_currentService, m_consumers->statusAddresses());
}

void Dashboard::setCurrentService(const QString &id)
{
    if (id == m_currentService)
        return;
    m_currentService = id;
    m_invokers->setMicroServiceId(id);
    m_consumers->setMicroServiceId(id);
    pollTargetsChanged();
    Q_EMIT currentServiceChanged();
    Q_EMIT writeRefusalChanged();
}

void Dashboard::setCurrentInstance(const QString &address)
{
    if (address == m_currentInstance)
        return;
    m_currentInstance = address;
    m_instance->setAddress(address);
    m_poller->setDetailed(address);
    Q_EMIT currentInstanceChanged();
}

// What refuses every action, whatever the service.
QString Dashboard::globalRefusal() const
{
    if (m_options.readOnly)
        return QStringLiteral("the dashboard was started with --read-only");
    if (!m_registry->isConnected())
        return QStringLiteral("not connected to ZooKeeper at %1").arg(registryAddress());
    return {};
}

// For the service on screen as a whole: set when no stage of it may be changed.
QString Dashboard::writeRefusal() const
{
    if (QString refusal = globalRefusal(); !refusal.isEmpty())
        return refusal;
    QString first;
    for (const RegistryServiceEntry *e : m_cluster->entries(m_currentService)) {
        const QString refusal = writeRefusal(m_currentService, e->stage);
        if (refusal.isEmpty())
            return {};
        if (first.isEmpty())
            first = refusal;
    }
    return first;
}

QString Dashboard::writeRefusal(const QString &microServiceId, const QString &stage) const
{
    if (QString refusal = globalRefusal(); !refusal.isEmpty())
        return refusal;
    const RegistryServiceEntry *entry = m_cluster->entry(microServiceId, stage);
    if (entry && !entry->writable) {
        return m_registry->hasCredentials()
            ? QStringLiteral("the credentials given do not own %1 in %2 in ZooKeeper").arg(microServiceId, stage)
            : QStringLiteral("ZooKeeper lets only the owners of %1 in %2 change it: start the dashboard with "
                             "zookeeper://user:password@%3")
                  .arg(microServiceId, stage, registryAddress());
    }
    return m_writeRefusals.value(microServiceId + QLatin1Char('\n') + stage);
}

QString Dashboard::callRefusal() const
{
    return m_options.readOnly ? QStringLiteral("the dashboard was started with --read-only") : QString();
}

// What the instance's override is, counting a write of ours still on its way.
InstanceOverride Dashboard::currentOverride(const QString &stage, const QString &address) const
{
    const auto pending = m_pendingWrites.constFind(m_currentService + QLatin1Char('\n') + stage + QLatin1Char('\n') + address);
    if (pending != m_pendingWrites.cend())
        return pending->value.value_or(InstanceOverride{});
    const RegistryServiceEntry *e = m_cluster->entry(m_currentService, stage);
    return e ? e->overrides.value(address) : InstanceOverride{};
}

void Dashboard::setWeight(const QString &stage, const QString &address, int weight)
{
    if (weight < 1 || weight > 1000) {
        Q_EMIT actionFinished(false, QStringLiteral("a weight is from 1 to 1000, not %1").arg(weight));
        return;
    }
    InstanceOverride value = currentOverride(stage, address);
    value.weight = weight;
    writeOverride(stage, address, value, QStringLiteral("weight %1").arg(weight));
}

void Dashboard::setDisabled(const QString &stage, const QString &address, bool disabled)
{
    InstanceOverride value = currentOverride(stage, address);
    value.disabled = disabled;
    writeOverride(stage, address, value, disabled ? QStringLiteral("disabled") : QStringLiteral("enabled"));
}

void Dashboard::clearOverride(const QString &stage, const QString &address)
{
    writeOverride(stage, address, std::nullopt, QStringLiteral("override cleared"));
}

void Dashboard::writeOverride(const QString &stage, const QString &address,
                              const std::optional<InstanceOverride> &value, const QString &what)
{
    if (const QString refusal = writeRefusal(m_currentService, stage); !refusal.isEmpty()) {
        Q_EMIT actionFinished(false, refusal);
        return;
    }
    m_pendingWrites.insert(m_currentService + QLatin1Char('\n') + stage + QLatin1Char('\n') + address,
                           PendingWrite{QStringLiteral("%1 in %2: %3").arg(address, stage, what), value});
    if (value)
        m_registry->setOverride(m_currentService, stage, address, *value);
    else
        m_registry->clearOverride(m_currentService, stage, address);
}

// A refusal for want of permission holds for that service and stage for the rest of the
// session (the next write would be refused too); another session may hold other rights.
void Dashboard::onOverrideWritten(const QString &microServiceId, const QString &stage, const QString &address,
                                  const QString &error)
{
    const PendingWrite w = m_pendingWrites.take(microServiceId + QLatin1Char('\n') + stage + QLatin1Char('\n') + address);
    const QString what = w.what.isEmpty() ? QStringLiteral("%1 in %2").arg(address, stage) : w.what;
    if (error.isEmpty()) {
        Q_EMIT actionFinished(true, what);
        return;
    }
    if (error.contains(QLatin1String("ZNOAUTH"))) {
        m_writeRefusals.insert(microServiceId + QLatin1Char('\n') + stage,
                               QStringLiteral("ZooKeeper refused a change to %1 in %2: %3").arg(microServiceId, stage, error));
        refusalsMayHaveChanged();
    }
    Q_EMIT actionFinished(false, QStringLiteral("%1: %2").arg(what, error));
}

void Dashboard::tryCall(const QString &address, const QString &interfaceName, const QString &method,
                        const QString &argumentsJson)
{
    if (const QString refusal = callRefusal(); !refusal.isEmpty()) {
        Q_EMIT callFinished(false, refusal);
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(argumentsJson.trimmed().isEmpty() ? QByteArray("[]")
                                                                                        : argumentsJson.toUtf8(),
                                                      &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isArray()) {
        Q_EMIT callFinished(false, parseError.error != QJsonParseError::NoError
                                       ? QStringLiteral("the arguments are not JSON: %1").arg(parseError.errorString())
                                       : QStringLiteral("the arguments must be a JSON array, one element per argument"));
        return;
    }
    if (!m_client)
        m_client = std::make_unique<RpcClient>(m_config);
    const QString transport = m_cluster->allAddresses().value(address, QStringLiteral("tcp"));
    const Endpoint endpoint = Endpoint::fromString(transport + QStringLiteral("://") + address);
    auto stub = std::make_shared<DynamicStub>(m_client->directChannel(endpoint), interfaceName);
    stub->callJson(method, doc.array(), CallOptions().setTimeout(std::chrono::milliseconds(CallTimeoutMs)))
        .then(this,
              [this, stub](const QJsonValue &result) {
                  const QString text = result.isUndefined() ? QStringLiteral("(void)")
                                       : result.isArray()   ? QString::fromUtf8(QJsonDocument(result.toArray()).toJson())
                                       : result.isObject()  ? QString::fromUtf8(QJsonDocument(result.toObject()).toJson())
                                                            : QString::fromUtf8(QJsonDocument(QJsonArray{result}).toJson(
                                                                                   QJsonDocument::Compact))
                                                                  .mid(1)
                                                                  .chopped(1);
                  Q_EMIT callFinished(true, text.trimmed());
              })
        .onFailed(this, [this, stub](const RpcError &e) { Q_EMIT callFinished(false, e.toString()); })
        .onFailed(this, [this, stub] { Q_EMIT callFinished(false, QStringLiteral("the call failed")); });
}

bool Dashboard::isViewReady(const QString &view, QString *why) const
{
    auto no = [why](const QString &reason) {
        if (why)
            *why = reason;
        return false;
    };
    if (!m_loaded)
        return no(m_registryMessage.isEmpty() ? QStringLiteral("the registry at %1 has not been read yet").arg(registryAddress())
                                              : m_registryMessage);
    if (view == QLatin1String("services"))
        return true;
    if (view.startsWith(QLatin1String("service:"))) {
        const QString id = view.mid(8);
        if (!m_cluster->hasService(id))
            return no(QStringLiteral("no micro-service %1 in the registry").arg(id));
        if (m_currentService != id)
            return no(QStringLiteral("%1 is not the service on screen").arg(id));
        if (!m_poller->allSampled(m_invokers->addresses()))
            return no(QStringLiteral("the instances of %1 have not all answered twice or failed yet").arg(id));
        if (!m_poller->allConsumersPolled(m_consumers->statusAddresses()))
            return no(QStringLiteral("the clients of %1 have not all answered or failed yet").arg(id));
        return true;
    }
    if (view.startsWith(QLatin1String("instance:"))) {
        if (m_currentInstance != view.mid(9))
            return no(QStringLiteral("%1 is not the instance on screen").arg(view.mid(9)));
        if (!m_instance->isKnown())
            return no(QStringLiteral("no instance at %1 in the registry").arg(view.mid(9)));
        if (!m_instance->isLoaded() || (m_instance->state() != QLatin1String("not-answering")
                                        && (m_instance->services().isEmpty() || m_instance->callsHistory().size() < m_options.readySamples)))
            return no(QStringLiteral("%1 has not answered enough status requests yet").arg(view.mid(9)));
        return true;
    }
    return no(QStringLiteral("unknown view %1 (services, service:<id>, instance:<host:port>)").arg(view));
}

} // namespace Tomato
