// SPDX-License-Identifier: Apache-2.0
// The memory budget a server's connections share (max-buffered-bytes): what fits, who is woken
// when room frees up, and whom eviction picks. Time is passed in; nothing sleeps.
#include <tomato/transport/bufferbudget_p.h>

#include <QtCore/QCoreApplication>
#include <QtTest/QTest>

using namespace Tomato;
using Clock = std::chrono::steady_clock;

namespace {
// A connection's stand-in: an owner object and what the budget told it.
struct Holder : QObject, BudgetOwner
{
    explicit Holder(const std::shared_ptr<BufferBudget> &budget)
        : account(std::make_unique<BudgetAccount>(budget, this))
    {
    }
    ~Holder() override { account->detach(); }
    void onBudgetRoom() override { ++woken; }
    void onBudgetEvict(const QString &why) override { evicted = why; }
    int woken = 0;
    QString evicted;
    std::unique_ptr<BudgetAccount> account;
};

void runQueued()
{
    QCoreApplication::processEvents();
}
} // namespace

class tst_BufferBudget : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void largeFramesLeaveTheLastEighthToSmallOnes();
    void accountsGiveBackWhatTheyHeld();
    void answersAreCountedAndNeverRefused();
    void waitersAreWokenWhenTheirNeedFits();
    void aLargeWaiterDoesNotHoldBackSmallOnes();
    void aWaiterIsGrantedItsRoomAndKeepsItsPlace();
    void reserveOrWaitIsAllOrNothingAndOnlyAGrantEndsAWait();
    void evictionWaitsForTheBoundThenPicksTheLargestHolders();
    void aDetachedAccountIsNeverCalled();
};

void tst_BufferBudget::largeFramesLeaveTheLastEighthToSmallOnes()
{
    BufferBudget budget(8 << 20, 0);
    QCOMPARE(budget.largeLimit(), qint64(7 << 20));
    QVERIFY(budget.tryTake(6 << 20, true));
    QVERIFY(!budget.tryTake(2 << 20, true)); // would pass 7/8
    QVERIFY(budget.tryTake(1 << 20, true));  // exactly 7/8
    QVERIFY(!budget.underPressure());
    QVERIFY(budget.tryTake(1 << 20, false)); // small ones may use the rest
    QVERIFY(budget.underPressure());
    QVERIFY(!budget.tryTake(1, false));
    QCOMPARE(budget.used(), qint64(8 << 20));
    budget.give(8 << 20);
    QCOMPARE(budget.used(), 0);
}

void tst_BufferBudget::accountsGiveBackWhatTheyHeld()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 0);
    {
        Holder h(budget);
        QVERIFY(h.account->reserveFrame(100 << 10, true));
        QVERIFY(h.account->reserveFrame(50 << 10, true)); // already has more: nothing taken
        QCOMPARE(budget->used(), qint64(100 << 10));
        h.account->shrinkFrame(10 << 10);
        QCOMPARE(budget->used(), qint64(10 << 10));
        QVERIFY(!h.account->reserveFrame(2 << 20, true));
        QCOMPARE(h.account->frameBytes(), qint64(10 << 10)); // a refusal takes nothing
        QVERIFY(h.account->reserveFrame(30 << 10, false));
    }
    QCOMPARE(budget->used(), 0);
}

void tst_BufferBudget::answersAreCountedAndNeverRefused()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 0);
    Holder h(budget);
    h.account->addAnswerBytes(3 << 20); // already in memory: counted past the limit
    QCOMPARE(budget->used(), qint64(3 << 20));
    QVERIFY(!budget->tryTake(1, false)); // and others feel it
    h.account->addAnswerBytes(-(3 << 20));
    QCOMPARE(budget->used(), 0);
}

void tst_BufferBudget::waitersAreWokenWhenTheirNeedFits()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 0);
    Holder hog(budget), waiter(budget);
    QVERIFY(hog.account->reserveFrame(900 << 10, false));
    QVERIFY(!waiter.account->reserveFrame(200 << 10, true));
    waiter.account->waitForRoom(200 << 10, true);
    QVERIFY(waiter.account->isWaiting());
    QCOMPARE(budget->waits(), quint64(1));
    hog.account->shrinkFrame(800 << 10); // 100 KiB free of 896 usable: not enough
    runQueued();
    QCOMPARE(waiter.woken, 0);
    hog.account->shrinkFrame(0);
    runQueued();
    QCOMPARE(waiter.woken, 1);
    QVERIFY(!waiter.account->isWaiting());
    QCOMPARE(waiter.account->frameBytes(), qint64(200 << 10)); // granted before it was woken
    QVERIFY(waiter.account->reserveFrame(200 << 10, true));  // so this takes nothing more
    QCOMPARE(budget->used(), qint64(200 << 10));
}

void tst_BufferBudget::aWaiterIsGrantedItsRoomAndKeepsItsPlace()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 0);
    Holder hog(budget), first(budget), second(budget), thief(budget);
    QVERIFY(hog.account->reserveFrame(1 << 20, false));
    first.account->waitForRoom(500 << 10, true);
    second.account->waitForRoom(10 << 10, false);
    hog.account->shrinkFrame((1 << 20) - (20 << 10)); // 20 KiB: the second fits, the first not
    runQueued();
    QCOMPARE(second.woken, 1);
    QCOMPARE(first.woken, 0);
    hog.account->shrinkFrame(300 << 10); // now 500 KiB fit the first...
    QVERIFY(!thief.account->reserveFrame(200 << 10, true)); // ...and were taken for it already
    runQueued();
    QCOMPARE(first.woken, 1);
    QCOMPARE(first.account->frameBytes(), qint64(500 << 10));
    QCOMPARE(budget->waits(), quint64(2)); // one wait each, no re-queueing
}

void tst_BufferBudget::aLargeWaiterDoesNotHoldBackSmallOnes()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 0);
    Holder hog(budget), large(budget), small(budget);
    QVERIFY(hog.account->reserveFrame(1 << 20, false));
    large.account->waitForRoom(800 << 10, true);
    small.account->waitForRoom(16 << 10, false);
    hog.account->shrinkFrame(900 << 10); // 124 KiB free: the small one fits, the large one not
    runQueued();
    QCOMPARE(large.woken, 0);
    QCOMPARE(small.woken, 1);
    QCOMPARE(budget->waiting(), 1);
}

// What a connection does before each read: the whole frame or a wait, keeping only what it
// holds; and a waiting connection cannot get in ahead of the queue by asking again.
void tst_BufferBudget::reserveOrWaitIsAllOrNothingAndOnlyAGrantEndsAWait()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 0);
    Holder hog(budget), reader(budget);
    QVERIFY(reader.account->reserveOrWait(32 << 10, 0, false)); // a first read's worth
    QVERIFY(hog.account->reserveFrame(900 << 10, false));
    // Its header announced 200 KiB; 20 KiB of it are in. No room: it keeps its 20 KiB.
    QVERIFY(!reader.account->reserveOrWait(200 << 10, 20 << 10, true));
    QCOMPARE(reader.account->frameBytes(), qint64(20 << 10));
    QVERIFY(reader.account->isWaiting());
    QVERIFY(!reader.account->reserveOrWait(200 << 10, 20 << 10, true)); // asking again: still waiting
    hog.account->shrinkFrame(600 << 10); // room: granted at once, the wake-up on its way
    QCOMPARE(reader.account->frameBytes(), qint64(200 << 10));
    QVERIFY(reader.account->reserveOrWait(200 << 10, 20 << 10, true)); // and it takes nothing twice
    QCOMPARE(budget->used(), qint64((600 << 10) + (200 << 10)));
    runQueued();
    QCOMPARE(reader.woken, 1);
    QCOMPARE(budget->waits(), quint64(1));
}

void tst_BufferBudget::evictionWaitsForTheBoundThenPicksTheLargestHolders()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 2000);
    Holder a(budget), b(budget), c(budget), waiter(budget);
    QVERIFY(a.account->reserveFrame(300 << 10, true));
    QVERIFY(b.account->reserveFrame(100 << 10, true));
    c.account->addAnswerBytes(500 << 10); // unread answers count as held too
    const Clock::time_point start = Clock::now();
    waiter.account->waitForRoom(400 << 10, true);
    QCOMPARE(budget->evictIfStarved(start + std::chrono::milliseconds(1999)), 0);
    // 896 KiB usable for large frames, 900 KiB used: 404 KiB missing. c (500 KiB) covers it.
    QCOMPARE(budget->evictIfStarved(start + std::chrono::milliseconds(2100)), 1);
    runQueued();
    QVERIFY2(c.evicted.contains(QLatin1String("max-buffered-bytes")), qPrintable(c.evicted));
    QVERIFY(a.evicted.isEmpty());
    QVERIFY(b.evicted.isEmpty());
    QCOMPARE(budget->evictions(), quint64(1));
    QCOMPARE(budget->evictIfStarved(start + std::chrono::milliseconds(3000)), 0); // its clock starts over
    c.account->addAnswerBytes(-(500 << 10)); // the evicted connection drops what it held
    runQueued();
    QCOMPARE(waiter.woken, 1); // its 400 KiB fit and were granted
    waiter.account->shrinkFrame(0);

    // More than everything held could free (a large call running holds the rest): nobody is
    // closed for nothing.
    budget->force(300 << 10);
    const Clock::time_point again = Clock::now();
    waiter.account->waitForRoom(1000 << 10, false); // 324 KiB free, 676 missing, 400 held
    QCOMPARE(budget->evictIfStarved(again + std::chrono::milliseconds(2100)), 0);
    waiter.account->detach();
    budget->give(300 << 10);

    // A need the largest holder alone does not cover: the next largest go too.
    Holder waiter2(budget);
    const Clock::time_point third = Clock::now();
    waiter2.account->waitForRoom(800 << 10, true); // 896 - 400 free: 304 KiB missing
    QCOMPARE(budget->evictIfStarved(third + std::chrono::milliseconds(2100)), 2);
    runQueued();
    QVERIFY(!a.evicted.isEmpty());
    QVERIFY(!b.evicted.isEmpty());
}

void tst_BufferBudget::aDetachedAccountIsNeverCalled()
{
    auto budget = std::make_shared<BufferBudget>(1 << 20, 1);
    Holder hog(budget);
    QVERIFY(hog.account->reserveFrame(1 << 20, false));
    auto gone = std::make_unique<Holder>(budget);
    gone->account->waitForRoom(10, false);
    gone->account->addAnswerBytes(5);
    gone->account->detach(); // its owner is on its way out: nothing may reach it any more
    QCOMPARE(budget->waiting(), 0);
    hog.account->shrinkFrame(0);
    QCOMPARE(budget->evictIfStarved(Clock::now() + std::chrono::seconds(1)), 0);
    gone.reset();
    runQueued(); // nothing queued for the dead owner: would crash under ASan otherwise
    QCOMPARE(budget->used(), 0); // what it held went back with it
}

QTEST_GUILESS_MAIN(tst_BufferBudget)
#include "tst_bufferbudget.moc"
