using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Node.Runtime;

/// <summary>Images: inspecting the local store and pulling from registries through the Engine API.</summary>
internal sealed partial class DockerRuntime
{
    public async Task<LocalImage?> InspectImageAsync(string image, CancellationToken ct = default)
    {
        try
        {
            var inspected = await _client.Images.InspectImageAsync(WithDefaultTag(image), ct);
            return new LocalImage(inspected.ID, inspected.Size, inspected.RepoDigests?.ToList() ?? [], inspected.Config?.User ?? "");
        }
        catch (DockerImageNotFoundException) { return null; }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
    }

    public async Task<LocalImage> PullImageAsync(ImagePullRequest request, CancellationToken ct = default)
    {
        var reference = ImageReference.TryParse(request.Image, out var invalid) ?? throw new ImagePullException(invalid);
        if (request.Mirror is { Length: > 0 } mirror && reference.Domain == ImageReference.DockerHub && reference.Digest is null)
        {
            var mirrored = $"{mirror}/{reference.Path}";
            try
            {
                await PullAsync(mirrored, reference.PullTag, null, ct);
                await _client.Images.TagImageAsync($"{mirrored}:{reference.PullTag}",
                    new ImageTagParameters { RepositoryName = reference.FamiliarRepository, Tag = reference.PullTag }, ct);
                return await InspectImageAsync(reference.Normalized, ct) ?? throw new ImagePullException($"image {request.Image} is missing after its pull");
            }
            catch (ImagePullException e)
            {
                _log.LogWarning("Pulling {Image} from the mirror {Mirror} failed ({Message}); pulling from Docker Hub", request.Image, mirror, e.Message);
            }
        }
        var name = reference.Domain == ImageReference.DockerHub ? reference.FamiliarRepository : reference.Repository;
        ImagePullException? last = null;
        foreach (var auth in request.Auths.Count == 0 ? [null] : request.Auths.Cast<RegistryAuth?>())
        {
            try
            {
                await PullAsync(name, reference.PullTag, auth, ct);
                return await InspectImageAsync(reference.Normalized, ct) ?? throw new ImagePullException($"image {request.Image} is missing after its pull");
            }
            catch (ImagePullException e) { last = e; }
        }
        throw last!;
    }

    private async Task PullAsync(string name, string tag, RegistryAuth? auth, CancellationToken ct)
    {
        var progress = new LastError();
        try
        {
            await _client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag },
                auth is null ? new AuthConfig() : new AuthConfig { ServerAddress = auth.ServerAddress, Username = auth.Username, Password = auth.Password },
                progress, ct);
        }
        catch (DockerApiException e)
        {
            throw new ImagePullException(DockerMessage(e));
        }
        catch (HttpRequestException e)
        {
            throw new ImagePullException($"the Docker engine did not answer the pull: {e.Message}");
        }
        if (progress.Message is { } error) throw new ImagePullException(error);
    }

    /// <summary>The daemon's {"message": "…"} body, else the exception's text.</summary>
    private static string DockerMessage(DockerApiException e)
    {
        try
        {
            using var body = System.Text.Json.JsonDocument.Parse(e.ResponseBody);
            if (body.RootElement.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text) return text;
        }
        catch (System.Text.Json.JsonException) { }
        return string.IsNullOrWhiteSpace(e.ResponseBody) ? e.Message : e.ResponseBody.Trim();
    }

    /// <summary>Errors during a pull arrive in its progress stream (the HTTP status is already 200).</summary>
    private sealed class LastError : IProgress<JSONMessage>
    {
        public string? Message { get; private set; }

        public void Report(JSONMessage value)
        {
            if (!string.IsNullOrEmpty(value.ErrorMessage)) Message = value.ErrorMessage;
            else if (value.Error?.Message is { Length: > 0 } message) Message = message;
        }
    }
}
