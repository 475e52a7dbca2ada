// SPDX-License-Identifier: Apache-2.0
#include <tomato/wire/frameparser_p.h>

#include <QtCore/QRandomGenerator>
#include <QtCore/QtEndian>
#include <QtTest/QTest>

#include <cstring>

using Tomato::Frame;
using Tomato::FrameParser;

namespace {
QByteArray frameBytes(quint64 id, const QByteArray &ext, const QByteArray &body,
                      quint16 command = Frame::Request, quint8 serialization = 0)
{
    QByteArray out;
    Frame::encode(out, command, serialization, id, ext, body);
    return out;
}

// A 24-byte header with chosen raw fields, for malformed cases.
QByteArray rawHeader(quint8 magic, quint32 length, quint32 version, quint32 extLen,
                     quint64 id = 7)
{
    QByteArray h(24, '\0');
    auto *p = reinterpret_cast<uchar *>(h.data());
    p[0] = magic;
    qToBigEndian(length, p + 1);
    qToBigEndian(version, p + 5);
    qToBigEndian(extLen, p + 9);
    qToBigEndian(quint16(1), p + 13);
    p[15] = 0;
    qToBigEndian(id, p + 16);
    return h;
}
} // namespace

class tst_FrameParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encodesTheDocumentedLayout();
    void parsesAFrameSplitAtEveryByte();
    void parsesManyFramesMergedIntoOneRead();
    void parsesRandomlyChunkedStreams();
    void refusesBadInput_data();
    void refusesBadInput();
    void staysCorruptAfterCorruption();
    void refusesAnOversizedFrameFromItsHeaderAndSkipsItsBytes();
    void acceptsAFrameOfExactlyTheLimit();
    void memoryGrowsWithWhatArrivedNotWithWhatWasAnnounced();
    void startedFrameBytesTellsTheWholeSizeOfTheFrameUnderWay();
    void aLargeFrameDoesNotLeaveItsBufferBehind();
};

void tst_FrameParser::encodesTheDocumentedLayout()
{
    const QByteArray bytes = frameBytes(0x0102030405060708ULL, "k:v", "BODY", Frame::Response, 1);
    QCOMPARE(bytes.toHex(' '),
             QByteArray("ac 00 00 00 1a 00 00 00 01 00 00 00 03 00 02 01 01 02 03 04 05 06 07 08 "
                        "6b 3a 76 42 4f 44 59"));
}

void tst_FrameParser::parsesAFrameSplitAtEveryByte()
{
    const QByteArray bytes = frameBytes(42, "service:a&method:b", QByteArray("\x01\x02\x00\x03", 4));
    for (int cut = 0; cut <= bytes.size(); ++cut) {
        FrameParser parser;
        const auto first = parser.feed(bytes.left(cut));
        if (cut < bytes.size())
            QCOMPARE(first, FrameParser::NeedMore);
        const auto second = cut < bytes.size() ? parser.feed(bytes.mid(cut)) : first;
        QCOMPARE(second, FrameParser::Frame);
        QCOMPARE(parser.frame().messageId, quint64(42));
        QCOMPARE(parser.frame().extension, QByteArray("service:a&method:b"));
        QCOMPARE(parser.frame().body, QByteArray("\x01\x02\x00\x03", 4));
        QCOMPARE(parser.next(), FrameParser::NeedMore);
        QCOMPARE(parser.bufferedBytes(), 0);
    }
}

void tst_FrameParser::parsesManyFramesMergedIntoOneRead()
{
    QByteArray stream;
    for (int i = 0; i < 100; ++i)
        stream += frameBytes(quint64(i), i % 2 ? QByteArray("x:y") : QByteArray(), QByteArray(i, char(i)));
    FrameParser parser;
    parser.append(std::move(stream));
    for (int i = 0; i < 100; ++i) {
        QCOMPARE(parser.next(), FrameParser::Frame);
        const Frame f = parser.takeFrame();
        QCOMPARE(f.messageId, quint64(i));
        QCOMPARE(f.body, QByteArray(i, char(i)));
        QCOMPARE(f.extension, i % 2 ? QByteArray("x:y") : QByteArray());
    }
    QCOMPARE(parser.next(), FrameParser::NeedMore);
}

void tst_FrameParser::parsesRandomlyChunkedStreams()
{
    QRandomGenerator rng(1234);
    QByteArray stream;
    QList<QByteArray> bodies;
    for (int i = 0; i < 300; ++i) {
        QByteArray body(int(rng.bounded(2000)), Qt::Uninitialized);
        for (char &c : body)
            c = char(rng.bounded(256));
        bodies << body;
        stream += frameBytes(quint64(i), {}, body);
    }
    FrameParser parser;
    int next = 0;
    for (qsizetype pos = 0; pos < stream.size();) {
        const qsizetype n = qMin<qsizetype>(stream.size() - pos, 1 + rng.bounded(5000));
        parser.append(QByteArrayView(stream).sliced(pos, n));
        pos += n;
        while (parser.next() == FrameParser::Frame) {
            QCOMPARE(parser.frame().messageId, quint64(next));
            QCOMPARE(parser.frame().body, bodies.at(next));
            ++next;
        }
    }
    QCOMPARE(next, 300);
}

void tst_FrameParser::refusesBadInput_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<FrameParser::Result>("expected");
    QTest::addColumn<int>("code");
    using E = Tomato::RpcError;
    QTest::newRow("partial header") << QByteArray("\xAC\x00", 2) << FrameParser::NeedMore << int(E::Ok);
    QTest::newRow("wrong magic") << QByteArray(24, 'X') << FrameParser::Corrupt << int(E::MalformedFrame);
    QTest::newRow("wrong magic, one byte") << QByteArray("\x00", 1) << FrameParser::Corrupt << int(E::MalformedFrame);
    QTest::newRow("length below header") << rawHeader(0xAC, 18, 1, 0) << FrameParser::Corrupt << int(E::MalformedFrame);
    QTest::newRow("length zero") << rawHeader(0xAC, 0, 1, 0).left(5) << FrameParser::Corrupt << int(E::MalformedFrame);
    QTest::newRow("extension longer than frame") << rawHeader(0xAC, 19 + 4, 1, 5) << FrameParser::Corrupt << int(E::MalformedFrame);
    QTest::newRow("version 0") << rawHeader(0xAC, 19, 0, 0) << FrameParser::Corrupt << int(E::UnsupportedVersion);
    QTest::newRow("version 2, seen from 9 bytes") << rawHeader(0xAC, 19, 2, 0).left(9) << FrameParser::Corrupt << int(E::UnsupportedVersion);
    QTest::newRow("length over limit") << rawHeader(0xAC, 64 << 20, 1, 0) << FrameParser::TooLarge << int(E::FrameTooLarge);
    QTest::newRow("length 0xffffffff") << rawHeader(0xAC, 0xffffffffu, 1, 0) << FrameParser::TooLarge << int(E::FrameTooLarge);
    QTest::newRow("header only, body missing") << rawHeader(0xAC, 19 + 10, 1, 0) << FrameParser::NeedMore << int(E::Ok);
}

void tst_FrameParser::refusesBadInput()
{
    QFETCH(QByteArray, bytes);
    QFETCH(FrameParser::Result, expected);
    QFETCH(int, code);
    FrameParser parser(/*maxFrameBytes=*/16 << 20);
    QCOMPARE(parser.feed(bytes), expected);
    QCOMPARE(int(parser.errorCode()), code);
    if (expected == FrameParser::Corrupt)
        QVERIFY(!parser.errorString().isEmpty());
}

void tst_FrameParser::staysCorruptAfterCorruption()
{
    FrameParser parser;
    QCOMPARE(parser.feed(QByteArray(30, 'Z')), FrameParser::Corrupt);
    QCOMPARE(parser.feed(frameBytes(1, {}, "ok")), FrameParser::Corrupt);
    QCOMPARE(parser.bufferedBytes(), 0);
}

void tst_FrameParser::refusesAnOversizedFrameFromItsHeaderAndSkipsItsBytes()
{
    const QByteArray big = frameBytes(9, {}, QByteArray(5000, 'b'));
    const QByteArray small = frameBytes(10, {}, "after");
    FrameParser parser(/*maxFrameBytes=*/1024);
    // Only the header has arrived: it is refused now, before its body is buffered.
    QCOMPARE(parser.feed(big.left(24)), FrameParser::TooLarge);
    QCOMPARE(parser.frame().messageId, quint64(9));
    QCOMPARE(parser.errorCode(), Tomato::RpcError::FrameTooLarge);
    QCOMPARE(parser.bufferedBytes(), 0);
    // The rest of it is skipped as it comes, in pieces, and the stream stays in sync.
    parser.append(big.mid(24, 1000));
    QCOMPARE(parser.bufferedBytes(), 0);
    QCOMPARE(parser.feed(big.mid(1024) + small), FrameParser::Frame);
    QCOMPARE(parser.frame().messageId, quint64(10));
    QCOMPARE(parser.frame().body, QByteArray("after"));
}

void tst_FrameParser::acceptsAFrameOfExactlyTheLimit()
{
    const QByteArray exact = frameBytes(1, {}, QByteArray(1000, 'e'));
    FrameParser atLimit(exact.size());
    QCOMPARE(atLimit.feed(exact), FrameParser::Frame);
    FrameParser belowLimit(exact.size() - 1);
    QCOMPARE(belowLimit.feed(exact), FrameParser::TooLarge);
}

// A peer that announces a 16 MiB frame and sends its header has cost a few bytes, not 16 MiB;
// the buffer then grows with the body as it arrives, never past twice what arrived.
void tst_FrameParser::memoryGrowsWithWhatArrivedNotWithWhatWasAnnounced()
{
    const QByteArray body((16 << 20) - 64 - 24, 'b');
    const QByteArray whole = frameBytes(9, {}, body);
    FrameParser parser(16 << 20);
    QCOMPARE(parser.feed(whole.left(24)), FrameParser::NeedMore);
    QVERIFY2(parser.allocatedBytes() <= 64 << 10, qPrintable(QString::number(parser.allocatedBytes())));
    qsizetype fed = 24;
    while (fed < (1 << 20)) {
        QCOMPARE(parser.feed(whole.mid(fed, 64 << 10)), FrameParser::NeedMore);
        fed += 64 << 10;
        QVERIFY2(parser.allocatedBytes() <= 2 * fed + (64 << 10),
                 qPrintable(QStringLiteral("%1 allocated for %2 received").arg(parser.allocatedBytes()).arg(fed)));
    }
    QCOMPARE(parser.feed(whole.mid(fed)), FrameParser::Frame);
    QCOMPARE(parser.frame().messageId, quint64(9));
    QCOMPARE(parser.frame().body, body);
}

void tst_FrameParser::startedFrameBytesTellsTheWholeSizeOfTheFrameUnderWay()
{
    const QByteArray a = frameBytes(1, "k:v", QByteArray(100, 'a'));
    const QByteArray b = frameBytes(2, {}, QByteArray(5000, 'b'));
    FrameParser parser;
    QCOMPARE(parser.startedFrameBytes(), 0);
    QCOMPARE(parser.feed(a.left(3)), FrameParser::NeedMore);
    QCOMPARE(parser.startedFrameBytes(), qint64(Frame::HeaderSize)); // its length is not in yet
    QCOMPARE(parser.feed(a.mid(3, 10)), FrameParser::NeedMore);
    QCOMPARE(parser.startedFrameBytes(), qint64(a.size()));
    QCOMPARE(parser.feed(a.mid(13) + b.left(30)), FrameParser::Frame);
    QCOMPARE(parser.next(), FrameParser::NeedMore);
    QCOMPARE(parser.startedFrameBytes(), qint64(b.size())); // the next one
    QCOMPARE(parser.feed(b.mid(30)), FrameParser::Frame);
    QCOMPARE(parser.next(), FrameParser::NeedMore);
    QCOMPARE(parser.startedFrameBytes(), 0);

    // A frame over the limit is skipped once its header is in: it needs only the header,
    // also while its length is in and the rest of the header is not.
    FrameParser small(1024);
    QCOMPARE(small.feed(rawHeader(0xAC, 0xfffffff0u, 1, 0).left(9)), FrameParser::NeedMore);
    QCOMPARE(small.startedFrameBytes(), qint64(Frame::HeaderSize));
}

// The server's read path (appendSpace/commitAppend, as Stream::readInto fills it): a large
// frame read together with the start of the next leaves a buffer of the small one's size.
void tst_FrameParser::aLargeFrameDoesNotLeaveItsBufferBehind()
{
    const QByteArray large = frameBytes(1, {}, QByteArray(4 << 20, 'L'));
    const QByteArray next = frameBytes(2, {}, QByteArray(100, 'n'));
    const QByteArray stream = large + next.left(40);
    FrameParser parser(16 << 20);
    for (qsizetype fed = 0; fed < stream.size();) {
        const qint64 n = qMin<qint64>(256 << 10, stream.size() - fed);
        std::memcpy(parser.appendSpace(n), stream.constData() + fed, size_t(n));
        parser.commitAppend(n);
        fed += n;
        QVERIFY2(parser.allocatedBytes() <= 2 * fed + (64 << 10), qPrintable(QString::number(parser.allocatedBytes())));
    }
    QCOMPARE(parser.next(), FrameParser::Frame);
    QCOMPARE(parser.frame().body.size(), 4 << 20);
    QCOMPARE(parser.next(), FrameParser::NeedMore);
    QCOMPARE(parser.bufferedBytes(), 40);
    QVERIFY2(parser.allocatedBytes() < (64 << 10), qPrintable(QString::number(parser.allocatedBytes())));
    QCOMPARE(parser.feed(next.mid(40)), FrameParser::Frame);
    QCOMPARE(parser.frame().messageId, quint64(2));
}

QTEST_APPLESS_MAIN(tst_FrameParser)
#include "tst_frameparser.moc"
