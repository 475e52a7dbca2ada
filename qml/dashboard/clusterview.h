// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QObject>
#include <map>

namespace Tomato {

// The registry's tree as the dashboard knows it: one RegistryServiceEntry per micro-service
// and stage, kept from ZooKeeperRegistry's tree signals (or given by tests), and what the
// models derive from it: a service's instances across stages, the interface hash most of them
// share, the override of an instance.
//
// Threads: the GUI thread.
class ClusterView : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    void setEntry(const RegistryServiceEntry &entry);
    void removeEntry(const QString &microServiceId, const QString &stage);

    QStringList serviceIds() const; // sorted
    bool hasService(const QString &microServiceId) const;
    // The entries of a service, by stage name; valid until the next setEntry()/removeEntry().
    QList<const RegistryServiceEntry *> entries(const QString &microServiceId) const;
    const RegistryServiceEntry *entry(const QString &microServiceId, const QString &stage) const;
    // The interface hash most instances of the service announce ("" when they all agree or
    // there are none); instances with another hash are a mixed deployment.
    QString majorityHash(const QString &microServiceId) const;
    // Every instance of every service: "host:port" -> transport, for the health poller.
    QHash<QString, QString> allAddresses() const;

Q_SIGNALS:
    // A stage of a service appeared, changed or went (entry() is then null).
    void entryChanged(const QString &microServiceId, const QString &stage);
    void serviceAdded(const QString &microServiceId);
    void serviceRemoved(const QString &microServiceId);

private:
    std::map<QString, std::map<QString, RegistryServiceEntry>> m_services; // by id, then stage
};

} // namespace Tomato
