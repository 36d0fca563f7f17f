namespace Orchestrator.Master.Api.FlowControl;

/// <summary>
/// Shuffle sharding (k8s.io/apiserver's shufflesharding.Dealer): a flow's hash deals it a hand of distinct queues out
/// of the deck, as digits of the hash in the mixed radix deckSize, deckSize−1, …; the request then joins the shortest
/// queue of its hand, so that a heavy flow shares queues with few others.
/// </summary>
internal static class ShuffleSharding
{
    /// <summary>The hand of <paramref name="handSize"/> distinct queue indexes the hash deals from
    /// <paramref name="deckSize"/> queues (validation bounds the entropy this takes to 60 bits of the hash).</summary>
    public static int[] Deal(ulong hash, int deckSize, int handSize)
    {
        var hand = new int[handSize];
        for (var i = 0; i < handSize; i++)
        {
            var remaining = (ulong)(deckSize - i);
            var card = (int)(hash % remaining);
            hash /= remaining;
            // the card-th of the queues not dealt yet: step over the ones dealt, in increasing order
            var dealt = hand.AsSpan(0, i).ToArray();
            Array.Sort(dealt);
            foreach (var taken in dealt)
                if (card >= taken) card++;
            hand[i] = card;
        }
        return hand;
    }
}
