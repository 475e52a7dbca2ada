// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace Tomato {

class BufferBudget;

// What a BudgetAccount tells its owner, on the owner's thread.
class BudgetOwner
{
public:
    virtual void onBudgetRoom() = 0;                     // room may have freed up: read on
    virtual void onBudgetEvict(const QString &why) = 0;  // close: others need the memory
protected:
    ~BudgetOwner() = default;
};

// One connection's account with its server's BufferBudget: what it holds, and how the budget
// reaches it. A member of the connection (its I/O thread); its Outbox counts queued answers
// into it from any thread until the outbox is closed, which the connection does before the
// account goes. The connection detaches it first in its destructor; from then on nothing is
// posted to it, and what it held is given back when it is destroyed.
class BudgetAccount
{
public:
    // `owner` is both the QObject whose thread runs the callbacks (queued) and the callbacks.
    template<class Owner>
    BudgetAccount(std::shared_ptr<BufferBudget> budget, Owner *owner)
        : BudgetAccount(std::move(budget), static_cast<QObject *>(owner), static_cast<BudgetOwner *>(owner))
    {
    }
    BudgetAccount(std::shared_ptr<BufferBudget> budget, QObject *owner, BudgetOwner *callbacks);
    ~BudgetAccount();
    BudgetAccount(const BudgetAccount &) = delete;
    BudgetAccount &operator=(const BudgetAccount &) = delete;

    // Owner's thread: the reservation for the frame being received grows to `bytes`, if the
    // budget has the room (`large`: for a frame over SmallFrame, which may not use the last
    // eighth); false (and nothing taken) when it has not.
    bool reserveFrame(qint64 bytes, bool large);
    // Owner's thread: the frame reservation shrinks to `bytes` (what is still held).
    void shrinkFrame(qint64 bytes);
    qint64 frameBytes() const { return m_frame.load(std::memory_order_relaxed); }
    // Any thread: answers queued for sending grew or shrank by `delta` (never refused: the
    // bytes exist already; the budget's other users feel it).
    void addAnswerBytes(qint64 delta);
    qint64 answerBytes() const { return m_answers.load(std::memory_order_relaxed); }

    // Owner's thread, in one step under the budget's lock: the reservation grows to `target`
    // (true); or, without room, shrinks to `held` (all or nothing) and the account waits for
    // `target - held` (false: onBudgetRoom() follows once they are granted). While it waits,
    // this only says false: nothing but the grant ends a wait, so nobody overtakes the queue.
    bool reserveOrWait(qint64 target, qint64 held, bool large);
    // Owner's thread: waits for `more` bytes on top of what it holds (tests; reserveOrWait()).
    void waitForRoom(qint64 more, bool large);
    bool isWaiting() const;

    // Owner's destructor.
    void detach();

private:
    friend class BufferBudget;
    void postRoom();
    void postEvict(const QString &why);

    const std::shared_ptr<BufferBudget> m_budget;
    QMutex m_ownerMutex; // guards m_owner against the owner's destruction while posting to it
    QObject *m_owner;
    BudgetOwner *m_callbacks;
    std::atomic<qint64> m_frame{0};
    std::atomic<qint64> m_answers{0};
    // Guarded by the budget's mutex:
    qint64 m_need = 0; // > 0 while waiting
    bool m_needLarge = false;
    std::chrono::steady_clock::time_point m_waitingSince;
    bool m_evicting = false;
    bool m_detached = false;
};

// The memory a server's connections share for the bytes they hold (max-buffered-bytes):
// requests being received (a connection reserves a frame's announced size when its header
// arrives, before buffering its body), large requests from their arrival until their call is
// done, and answers queued for sending. Thread-safe; taking and giving back are one atomic
// operation each.
//
// A reservation that does not fit is refused: the connection stops reading and waits. Frames
// of at most SmallFrame bytes may use the whole budget, larger ones only LargeShare of it, so
// small calls keep flowing while large frames wait for room. Room that frees up is granted to
// waiters oldest first (taken for them before they are woken). When a connection has waited
// longer than max-buffered-wait-ms, evictIfStarved() closes the connections holding the most
// (unfinished frames and unread answers), largest first, until the waiter fits.
class BufferBudget
{
public:
    static constexpr qint64 SmallFrame = 64 << 10;

    BufferBudget(qint64 limit, int maxWaitMs);
    ~BufferBudget();

    qint64 limit() const { return m_limit; }
    qint64 used() const { return m_used.load(std::memory_order_relaxed); }
    // The most a large frame's reservation may take the total to.
    qint64 largeLimit() const { return m_limit - m_limit / 8; }
    // The last eighth is in use: readers should take no more than they must.
    bool underPressure() const { return used() > largeLimit(); }

    bool tryTake(qint64 bytes, bool large);
    void force(qint64 bytes);
    void give(qint64 bytes);

    // Any thread, from a timer: when a connection has waited longer than max-buffered-wait-ms,
    // asks the connections holding the most to close (their onBudgetEvict runs on their
    // thread), largest first, as many as make room for it, and none when even all of them
    // would not. Grants a waiter whose need fits by now. Returns how many were asked.
    int evictIfStarved(std::chrono::steady_clock::time_point now);

    quint64 waits() const { return m_waits.load(std::memory_order_relaxed); }
    quint64 evictions() const { return m_evictions.load(std::memory_order_relaxed); }
    int waiting() const;

private:
    friend class BudgetAccount;
    void add(BudgetAccount *account);
    void remove(BudgetAccount *account);
    void enqueueWaiter(BudgetAccount *account, qint64 more, bool large);
    void queueLocked(BudgetAccount *account, qint64 more, bool large);
    void wakeWaiters();

    const qint64 m_limit;
    const int m_maxWaitMs;
    std::atomic<qint64> m_used{0};
    std::atomic<int> m_waiterCount{0};
    std::atomic<quint64> m_waits{0};
    std::atomic<quint64> m_evictions{0};
    mutable QMutex m_mutex;
    std::vector<BudgetAccount *> m_accounts; // every live account, for eviction
    std::vector<BudgetAccount *> m_waiters;  // oldest first
};

} // namespace Tomato
