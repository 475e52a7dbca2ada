// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/registry/consumerinfo.h>
#include <tomato/registry/instanceinfo.h>

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <optional>

namespace Tomato {

// An operator's live change to one instance, as clients apply it (docs/CLUSTER.md#overrides):
// stored at /tomato/{service}/{stage}/overrides/{host:port} as JSON
// {"weight": 50, "disabled": true}; both fields optional, others ignored (docs/REGISTRY.md#overrides).
struct TOMATO_EXPORT InstanceOverride
{
    std::optional<int> weight; // replaces the instance's registered weight (1..1000)
    bool disabled = false;     // no new calls go to the instance
    // Null (and *error) for JSON that is not an object of those fields with valid values.
    static std::optional<InstanceOverride> fromJson(const QByteArray &json, QString *error);
    QByteArray toJson() const;
    bool operator==(const InstanceOverride &o) const { return weight == o.weight && disabled == o.disabled; }
    bool operator!=(const InstanceOverride &o) const { return !(*this == o); }
};
// Overrides of a service's instances in a stage, by "host:port".
using InstanceOverrides = QHash<QString, InstanceOverride>;

// Where servers announce their instances and clients find them. Implementations are
// selected by name-service-uri: a ZooKeeper ensemble (Tomato::ZooKeeper), or a static list.
//
// Threads: a Registry lives on the thread that created it and is used only there; no call
// blocks (results arrive as signals through that thread's event loop).
// Errors: a registry that cannot reach its backend keeps what it knew and keeps trying;
// it never reports "no instances" because of a failed read.
class TOMATO_EXPORT Registry : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~Registry() override;

    virtual void start() = 0;
    // Removes our registrations (best effort) and disconnects.
    virtual void stop() = 0;

    // Announces an instance; kept announced across reconnects and session expiry until
    // unregistered.
    virtual void registerInstance(const InstanceInfo &instance) = 0;
    virtual void unregisterInstance(const InstanceInfo &instance) = 0;

    // Starts watching the instances of a service in a stage; instancesChanged() follows.
    virtual void subscribe(const QString &microServiceId, const QString &stage) = 0;
    // The last known instances (empty before the first successful read).
    virtual QList<InstanceInfo> instances(const QString &microServiceId, const QString &stage) const = 0;

    virtual bool isConnected() const = 0;

    // Announces a client of a service (docs/REGISTRY.md#consumers), kept while it runs like
    // an instance; backends without consumer nodes ignore it (the default).
    virtual void registerConsumer(const ConsumerInfo &consumer);
    virtual void unregisterConsumer(const ConsumerInfo &consumer);

    // The last known overrides of a service's instances in a stage (watched from subscribe()
    // on); overridesChanged() follows each change. Default: none.
    virtual InstanceOverrides overrides(const QString &microServiceId, const QString &stage) const;

Q_SIGNALS:
    void instancesChanged(const QString &microServiceId, const QString &stage,
                          const QList<Tomato::InstanceInfo> &instances);
    void overridesChanged(const QString &microServiceId, const QString &stage,
                          const Tomato::InstanceOverrides &overrides);
    void connectedChanged(bool connected);
    // Our registrations are all in place (after start, a reconnect or a session expiry).
    void registered();
};

} // namespace Tomato
