// SPDX-License-Identifier: Apache-2.0
#include "clusterview.h"

namespace Tomato {

void ClusterView::setEntry(const RegistryServiceEntry &entry)
{
    const bool added = m_services.find(entry.microServiceId) == m_services.end();
    m_services[entry.microServiceId][entry.stage] = entry;
    if (added)
        Q_EMIT serviceAdded(entry.microServiceId);
    Q_EMIT entryChanged(entry.microServiceId, entry.stage);
}

void ClusterView::removeEntry(const QString &microServiceId, const QString &stage)
{
    const auto service = m_services.find(microServiceId);
    if (service == m_services.end() || service->second.erase(stage) == 0)
        return;
    const bool gone = service->second.empty();
    if (gone)
        m_services.erase(service);
    Q_EMIT entryChanged(microServiceId, stage);
    if (gone)
        Q_EMIT serviceRemoved(microServiceId);
}

QStringList ClusterView::serviceIds() const
{
    QStringList ids;
    for (const auto &[id, stages] : m_services)
        ids.append(id);
    return ids;
}

bool ClusterView::hasService(const QString &microServiceId) const
{
    return m_services.find(microServiceId) != m_services.end();
}

QList<const RegistryServiceEntry *> ClusterView::entries(const QString &microServiceId) const
{
    QList<const RegistryServiceEntry *> out;
    const auto service = m_services.find(microServiceId);
    if (service != m_services.end()) {
        for (const auto &[stage, entry] : service->second)
            out.append(&entry);
    }
    return out;
}

const RegistryServiceEntry *ClusterView::entry(const QString &microServiceId, const QString &stage) const
{
    const auto service = m_services.find(microServiceId);
    if (service == m_services.end())
        return nullptr;
    const auto it = service->second.find(stage);
    return it == service->second.end() ? nullptr : &it->second;
}

QString ClusterView::majorityHash(const QString &microServiceId) const
{
    QHash<QString, int> votes;
    for (const RegistryServiceEntry *e : entries(microServiceId)) {
        for (const InstanceInfo &i : e->providers)
            ++votes[i.interfaces()];
    }
    if (votes.size() < 2)
        return {};
    QString best;
    int most = -1;
    for (auto it = votes.cbegin(); it != votes.cend(); ++it) {
        // Ties go to the smaller hash, so that the answer does not depend on hash order.
        if (it.value() > most || (it.value() == most && it.key() < best)) {
            best = it.key();
            most = it.value();
        }
    }
    return best;
}

QHash<QString, QString> ClusterView::allAddresses() const
{
    QHash<QString, QString> out;
    for (const auto &[id, stages] : m_services) {
        for (const auto &[stage, entry] : stages) {
            for (const InstanceInfo &i : entry.providers)
                out.insert(i.address(), i.transport());
        }
    }
    return out;
}

} // namespace Tomato
