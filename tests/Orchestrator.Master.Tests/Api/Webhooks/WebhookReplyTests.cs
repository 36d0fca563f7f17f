using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Api.Webhooks;
using Orchestrator.Master.Registry.Kinds.Core;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Webhooks;

public sealed class WebhookReplyTests
{
    private static string Review(JsonObject response) =>
        new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response }.ToJsonString();

    [Fact]
    public void A_denial_carries_the_webhook_name_and_at_least_code_400()
    {
        var reply = WebhookReply.Parse(Review(new JsonObject
        {
            ["uid"] = "u", ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 200, ["message"] = "no, thanks" },
        }), "u", mutating: false);
        Assert.False(reply.Allowed);
        var denial = reply.Denial("deny.example.com");
        Assert.Equal(400, denial.Code);
        Assert.Equal("admission webhook \"deny.example.com\" denied the request: no, thanks", denial.Message);
    }

    /// <summary>kube reads a v1beta1 answer without checking its apiVersion, kind or uid, and takes its patch as a
    /// JSONPatch when patchType is missing; a v1 answer must have all three and the patchType.</summary>
    [Fact]
    public void A_v1beta1_answer_is_read_as_kube_reads_it_and_a_v1_answer_is_checked()
    {
        var patch = Convert.ToBase64String(Encoding.UTF8.GetBytes("""[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]"""));
        var beta = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1beta1", ["kind"] = "AdmissionReview",
            ["response"] = new JsonObject { ["allowed"] = true, ["patch"] = patch },
        }.ToJsonString();
        var reply = WebhookReply.Parse(beta, "u", mutating: true, version: "v1beta1");
        Assert.True(reply.Allowed);
        Assert.Equal("add", reply.Patch![0]!["op"]!.ToString());

        var e = Assert.Throws<WebhookCallException>(() => WebhookReply.Parse(beta, "u", mutating: true));
        Assert.Contains("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1", e.Message);
        var noUid = Review(new JsonObject { ["allowed"] = true, ["patch"] = patch, ["patchType"] = "JSONPatch" });
        Assert.Contains("expected response.uid=\"u\"", Assert.Throws<WebhookCallException>(() => WebhookReply.Parse(noUid, "u", true)).Message);
    }

    [Fact]
    public void The_review_is_sent_in_the_version_asked_for()
    {
        var request = new WebhookRequest(CoreResources.ConfigMaps, "CREATE", null, "x", "default",
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "x", NamespaceProperty = "default" } }, null, null, null, false, new JsonObject());
        Assert.Equal("admission.k8s.io/v1beta1", request.Review("u", "v1beta1")["apiVersion"]!.ToString());
        Assert.Equal("admission.k8s.io/v1", request.Review("u")["apiVersion"]!.ToString());
    }

    [Fact]
    public void A_denial_without_a_message_says_so_and_keeps_the_code()
    {
        var reply = WebhookReply.Parse(Review(new JsonObject { ["uid"] = "u", ["allowed"] = false, ["status"] = new JsonObject { ["code"] = 403 } }), "u", false);
        var denial = reply.Denial("d.example.com");
        Assert.Equal(403, denial.Code);
        Assert.Equal("admission webhook \"d.example.com\" denied the request without explanation", denial.Message);
    }

    [Fact]
    public void A_patch_is_decoded_warnings_and_annotations_kept()
    {
        var patch = Convert.ToBase64String(Encoding.UTF8.GetBytes("""[{"op":"add","path":"/metadata/labels/x","value":"y"}]"""));
        var reply = WebhookReply.Parse(Review(new JsonObject
        {
            ["uid"] = "u", ["allowed"] = true, ["patch"] = patch, ["patchType"] = "JSONPatch",
            ["warnings"] = new JsonArray("careful"), ["auditAnnotations"] = new JsonObject { ["k"] = "v" },
        }), "u", mutating: true);
        Assert.Equal("add", reply.Patch![0]!["op"]!.GetValue<string>());
        Assert.Equal(["careful"], reply.Warnings);
        Assert.Equal("v", reply.AuditAnnotations["k"]);
    }

    [Theory]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"other","allowed":true}}""", "expected response.uid=\"u\", got \"other\"")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"u","allowed":true}}""", "expected webhook response of admission.k8s.io/v1")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", "webhook response was absent")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"W10="}}""", "webhook returned response.patch but not response.patchType")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,"patch":"W10=","patchType":"Merge"}}""", "invalid response.patchType of \"Merge\"")]
    [InlineData("not json", "json parse error")]
    public void A_malformed_response_is_a_call_failure(string text, string why)
    {
        var e = Assert.Throws<WebhookCallException>(() => WebhookReply.Parse(text, "u", mutating: true));
        Assert.StartsWith("received invalid webhook response: ", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void A_validating_webhook_may_not_patch()
    {
        var text = Review(new JsonObject { ["uid"] = "u", ["allowed"] = true, ["patch"] = "W10=", ["patchType"] = "JSONPatch" });
        Assert.Contains("validating webhooks may not return patches", Assert.Throws<WebhookCallException>(() => WebhookReply.Parse(text, "u", false)).Message);
    }
}
