#pragma once
#include <tomato/registry/instanceinfo.h>

#include <QtCore/QObject>

namespace Tomato {

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

Q_SIGNALS:
    void instancesChanged(const QString &microServiceId, const QString &stage,
                          const QList<Tomato::InstanceInfo> &instances);
    void connectedChanged(bool connected);
    // Our registrations are all in place (after start, a reconnect or a session expiry).
    void registered();
};

} // namespace Tomato
