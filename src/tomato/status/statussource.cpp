// SPDX-License-Identifier: Apache-2.0
#include <tomato/status/statussource_p.h>

#include <QtCore/QMutex>

#include <algorithm>
#include <vector>

namespace Tomato {

StatusSource::~StatusSource() = default;

namespace {
struct Directory
{
    QMutex mutex;
    std::vector<std::shared_ptr<StatusSource>> sources;
    bool hadServer = false;
};

Directory &directory()
{
    static Directory d; // destroyed after main(): no part outlives its owner that long
    return d;
}
} // namespace

void StatusSources::add(const std::shared_ptr<StatusSource> &source)
{
    Directory &d = directory();
    QMutexLocker lock(&d.mutex);
    d.sources.push_back(source);
    d.hadServer = d.hadServer || source->kind() == StatusSource::Kind::Server;
}

bool StatusSources::hadServer()
{
    Directory &d = directory();
    QMutexLocker lock(&d.mutex);
    return d.hadServer;
}

void StatusSources::remove(const StatusSource *source)
{
    Directory &d = directory();
    std::shared_ptr<StatusSource> last; // released outside the lock
    QMutexLocker lock(&d.mutex);
    const auto it = std::find_if(d.sources.begin(), d.sources.end(), [&](const auto &s) { return s.get() == source; });
    if (it != d.sources.end()) {
        last = std::move(*it);
        d.sources.erase(it);
    }
    lock.unlock();
}

QList<std::shared_ptr<StatusSource>> StatusSources::all()
{
    Directory &d = directory();
    QMutexLocker lock(&d.mutex);
    return QList<std::shared_ptr<StatusSource>>(d.sources.begin(), d.sources.end());
}

} // namespace Tomato
