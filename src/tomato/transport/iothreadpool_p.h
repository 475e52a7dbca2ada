// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QThread>
#include <atomic>
#include <functional>
#include <memory>

namespace Tomato {

// A fixed set of I/O threads, each running its own event loop. Sockets are created on one
// of them and never leave it. Owned by an RpcServer or RpcClient; created and destroyed on
// the owner's thread. The destructor stops the threads; objects still living on them must
// have been deleted before (their owners do that in shutdown()).
class IoThreadPool
{
public:
    IoThreadPool(int threads, const QString &namePrefix);
    ~IoThreadPool();
    IoThreadPool(const IoThreadPool &) = delete;
    IoThreadPool &operator=(const IoThreadPool &) = delete;

    int size() const { return int(m_threads.size()); }
    // Round-robin pick; thread-safe.
    QThread *next();
    QThread *thread(int i) const { return m_threads.at(i); }
    // A QObject living on `thread`, to post functors to.
    QObject *context(const QThread *thread) const;
    void stop();

private:
    QList<QThread *> m_threads;
    QList<QObject *> m_contexts;
    std::atomic<unsigned> m_next{0};
};

// Runs f on the thread of `context` and waits for it (directly when already there).
void runOnThread(QObject *context, const std::function<void()> &f);

} // namespace Tomato
